"""Server-side context editing: ``context_management`` edits as pure functions over message
lists (OpenAI chat and Anthropic Messages), per-conversation sticky state, lookahead hooks.

A middleware calls ``parse_context_management`` (400 on bad input), ``conversation_key``, then
``edit_conversation`` (or ``apply_context_management`` with its own state handling)."""
from agentrt.editing.config import ContextManagement, parse_context_management
from agentrt.editing.conversation import edit_conversation
from agentrt.editing.edits import EDIT_KINDS
from agentrt.editing.engine import EditResult, apply_context_management, edit_messages
from agentrt.editing.errors import EditFailed, EditValidationError, SummaryNeeded, \
    SummaryRequest
from agentrt.editing.formats import FORMATS
from agentrt.editing.lookahead import next_trigger, soft_triggers
from agentrt.editing.state import ConversationState
from agentrt.editing.store import ConversationStore, conversation_key
from agentrt.editing.work import EditContext

__all__ = ["ContextManagement", "ConversationState", "ConversationStore", "EDIT_KINDS",
           "EditContext", "EditFailed", "EditResult", "EditValidationError", "FORMATS",
           "SummaryNeeded", "SummaryRequest", "apply_context_management", "conversation_key",
           "edit_conversation", "edit_messages", "next_trigger", "parse_context_management",
           "soft_triggers"]
