"""Several agentrt servers behind SGLang's router (smg): session-affine routing keys, home-worker
discovery, a one-machine cluster launcher."""
from agentrt.cluster.routing import (ROUTED_WORKER_HEADER, ROUTING_KEY_HEADER, HomeBook, Move,
                                     routed_worker, routing_headers)

__all__ = ["ROUTED_WORKER_HEADER", "ROUTING_KEY_HEADER", "HomeBook", "Move", "routed_worker",
           "routing_headers"]
