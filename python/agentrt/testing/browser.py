"""Headless Chromium from Debian's packages (tools/setup.sh installs them), driven by selenium: the
browser test of the radix view and the docs screenshot use it."""
import os

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking")


class BrowserMissingError(RuntimeError):
    pass


def headless_chromium(width: int = 1500, height: int = 900):
    """A selenium Chrome driver on Debian's chromium; BrowserMissingError says what to install."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        raise BrowserMissingError(
            f"{' and '.join(missing)} not found: `make setup` installs Debian's chromium and "
            "chromium-driver (apt-get, as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--window-size={width},{height}",):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
