"""packet-eval: grounded evidence from AI-engineering promotion packets.

Public API::

    import packet_eval
    a = packet_eval.assess("packet.md", target_level="senior")   # offline baseline without a key
    a.level, a.dimensions["eval_design"].evidence[0].quote
"""

from packet_eval.api import assess, assess_async, default_model
from packet_eval.errors import PacketEvalError
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet, load_packet, packet_from_text
from packet_eval.schema import Assessment

__all__ = [
    "Assessment",
    "Ladder",
    "Packet",
    "PacketEvalError",
    "assess",
    "assess_async",
    "default_model",
    "load_ladder",
    "load_packet",
    "packet_from_text",
]
__version__ = "0.1.0"
