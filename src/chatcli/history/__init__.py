"""Conversation history in SQLite: every exchange, kept safe from crashes and races.

``records`` holds the values (conversations, stored messages, their text),
``opening`` opens the database (read-only when it cannot be written), ``store``
reads and writes it, ``recorder`` is what a turn writes through. Importing this
package imports sqlite3: front ends import it only when the history is on.
"""

from chatcli.history.opening import MIGRATIONS
from chatcli.history.recorder import ConversationRecorder
from chatcli.history.records import (
    Conversation,
    DamagedMessage,
    Entry,
    HistoryError,
    StoredMessage,
    message_text,
    new_conversation_id,
    title_of,
)
from chatcli.history.store import HistoryStore

__all__ = ["MIGRATIONS", "Conversation", "ConversationRecorder", "DamagedMessage", "Entry",
           "HistoryError", "HistoryStore", "StoredMessage", "message_text",
           "new_conversation_id", "title_of"]
