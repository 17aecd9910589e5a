"""SGLang frontend programs (``@sgl.function`` agents) on agentrt, with lookahead.

    from agentrt import frontend
    backend = frontend.AgentrtBackend("http://127.0.0.1:30000")
    @frontend.function(strategy=...)      # context policy, declared once
    def agent(s, ...): s += frontend.tool_call("grep", grep, {"pattern": "x"})
"""
from agentrt.frontend.backend import AgentrtBackend
from agentrt.frontend.function import AgentFunction, function, report
from agentrt.frontend.program import CallRecord, ProgramError, ProgramReport
from agentrt.frontend.tool_call import ToolCall, ToolRecord, tool, tool_call

__all__ = ["AgentFunction", "AgentrtBackend", "CallRecord", "ProgramError", "ProgramReport",
           "ToolCall", "ToolRecord", "function", "report", "tool", "tool_call"]
