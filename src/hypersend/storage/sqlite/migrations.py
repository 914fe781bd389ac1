"""The SQLite schema as a list of forward migrations.

`PRAGMA user_version` records how many have run. A migration is SQL, or a function of the
connection where the work needs Python (it runs in the same transaction). Never edit a
released migration: append a new one.
"""

import sqlite3
from collections.abc import Callable

from hypersend.storage.sql.database import SqlConnection
from hypersend.storage.sql.search_text import fill_search_text

MIGRATIONS: list[str | Callable[[SqlConnection], None]] = [
    # 1: accounts and sessions
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        quota_bytes INTEGER
    );
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        refresh_generation INTEGER NOT NULL DEFAULT 0,
        revoked INTEGER NOT NULL DEFAULT 0,
        client_address TEXT NOT NULL DEFAULT '',
        user_agent TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_by_user ON sessions(user_id);
    """,
    # 2: chats, messages and the files they carry
    """
    CREATE TABLE chats (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('direct', 'group')),
        title TEXT NOT NULL DEFAULT '',
        direct_key TEXT UNIQUE,
        created_by TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_message_id TEXT
    );
    CREATE TABLE chat_members (
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        joined_at TEXT NOT NULL,
        last_read_message_id TEXT,
        PRIMARY KEY (chat_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX chat_members_by_user ON chat_members(user_id, chat_id);
    CREATE TABLE files (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        chat_id TEXT REFERENCES chats(id) ON DELETE SET NULL,
        filename TEXT NOT NULL,
        size INTEGER NOT NULL CHECK (size > 0),
        mime TEXT NOT NULL,
        chunk_size INTEGER NOT NULL,
        total_chunks INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('uploading', 'complete')),
        content_hash TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        completed_at TEXT
    );
    CREATE INDEX files_by_owner ON files(owner_id, status);
    CREATE INDEX files_by_status_expiry ON files(status, expires_at);
    CREATE INDEX files_by_status_completion ON files(status, completed_at);
    CREATE TABLE file_chunks (
        file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        sha256 BLOB NOT NULL,
        PRIMARY KEY (file_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        sender_id TEXT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('text', 'file')),
        text TEXT,
        file_id TEXT REFERENCES files(id) ON DELETE SET NULL,
        client_id TEXT,
        created_at TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_by_chat ON messages(chat_id, id);
    CREATE INDEX messages_by_file ON messages(file_id) WHERE file_id IS NOT NULL;
    CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id)
        WHERE client_id IS NOT NULL;
    """,
    # 3: P2P transfers (metadata only)
    """
    CREATE TABLE transfers (
        id TEXT PRIMARY KEY,
        sender_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        receiver_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        chat_id TEXT REFERENCES chats(id) ON DELETE SET NULL,
        filename TEXT NOT NULL,
        size INTEGER NOT NULL CHECK (size > 0),
        status TEXT NOT NULL,
        bytes_relayed INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX transfers_by_status_expiry ON transfers(status, expires_at);
    """,
    # 4: invite codes
    """
    CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        max_uses INTEGER NOT NULL CHECK (max_uses > 0),
        uses INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 5: a user's transfers, sent and received, newest first
    """
    CREATE INDEX transfers_by_sender ON transfers(sender_id, id);
    CREATE INDEX transfers_by_receiver ON transfers(receiver_id, id);
    """,
    # 6: which server process relays an active transfer (several processes share one store)
    """
    ALTER TABLE transfers ADD COLUMN relay_node TEXT;
    CREATE INDEX transfers_by_relay_node ON transfers(relay_node) WHERE status = 'active';
    """,
    # 7: each chat numbers its messages (seq) as they are written; paging, read pointers and
    # unread counts follow that order, which holds with many writers (ids are only roughly
    # time-ordered across processes)
    """
    ALTER TABLE chats ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE chat_members ADD COLUMN last_read_seq INTEGER NOT NULL DEFAULT 0;
    UPDATE messages SET seq = numbered.n FROM (
        SELECT id, row_number() OVER (PARTITION BY chat_id ORDER BY id) AS n FROM messages
    ) AS numbered WHERE numbered.id = messages.id;
    UPDATE chats SET last_seq = coalesce(
        (SELECT max(seq) FROM messages WHERE messages.chat_id = chats.id), 0);
    UPDATE chat_members SET last_read_seq = coalesce(
        (SELECT seq FROM messages WHERE messages.id = chat_members.last_read_message_id), 0);
    DROP INDEX messages_by_chat;
    CREATE UNIQUE INDEX messages_by_chat_seq ON messages(chat_id, seq);
    """,
    # 8: the file store's id of an upload in progress (an S3 multipart upload's id)
    """
    ALTER TABLE files ADD COLUMN store_upload_id TEXT;
    """,
    # 9: when a message's text was last edited
    """
    ALTER TABLE messages ADD COLUMN edited_at TEXT;
    """,
    # 10: the message a message answers
    """
    ALTER TABLE messages ADD COLUMN reply_to_id TEXT;
    """,
    # 11: tus uploads: their metadata, and the bytes of a chunk kept before it is whole
    """
    ALTER TABLE files ADD COLUMN tus_metadata TEXT;
    ALTER TABLE files ADD COLUMN staged_chunk INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN staged_bytes INTEGER NOT NULL DEFAULT 0;
    """,
    # 12: reactions to a message, as JSON text: {"emoji": ["user id", ...], ...}
    """
    ALTER TABLE messages ADD COLUMN reactions TEXT;
    """,
    # 13: full-text search over messages: their words (`sql/search_text.py`) in an FTS5 table
    # that triggers keep in step
    """
    ALTER TABLE messages ADD COLUMN search_text TEXT;
    CREATE VIRTUAL TABLE message_words USING fts5(
        search_text, content = 'messages', content_rowid = 'rowid',
        tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3'
    );
    INSERT INTO message_words(message_words) VALUES ('rebuild');
    CREATE TRIGGER message_words_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_words(rowid, search_text) VALUES (new.rowid, new.search_text);
    END;
    CREATE TRIGGER message_words_delete AFTER DELETE ON messages BEGIN
        INSERT INTO message_words(message_words, rowid, search_text)
            VALUES ('delete', old.rowid, old.search_text);
    END;
    CREATE TRIGGER message_words_update AFTER UPDATE OF search_text ON messages BEGIN
        INSERT INTO message_words(message_words, rowid, search_text)
            VALUES ('delete', old.rowid, old.search_text);
        INSERT INTO message_words(rowid, search_text) VALUES (new.rowid, new.search_text);
    END;
    """,
    # 14: the words of the messages stored before
    fill_search_text,
    # 15: image previews (`mime` empty: tried, none), and the images still due one
    """
    CREATE TABLE thumbnails (
        file_id TEXT PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        mime TEXT NOT NULL,
        data BLOB NOT NULL
    );
    ALTER TABLE files ADD COLUMN thumbnail_due INTEGER NOT NULL DEFAULT 0;
    UPDATE files SET thumbnail_due = 1 WHERE status = 'complete'
        AND mime IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif');
    CREATE INDEX files_thumbnail_due ON files(id) WHERE thumbnail_due = 1;
    """,
    # 16: each member's own pin and mute of a chat
    """
    ALTER TABLE chat_members ADD COLUMN pinned_at TEXT;
    ALTER TABLE chat_members ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
    """,
    # 17: presence: when each user was last seen, and whether they hide it
    """
    ALTER TABLE users ADD COLUMN presence_hidden INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN last_seen_at TEXT;
    """,
]


def migrate(connection: sqlite3.Connection) -> int:
    """Apply every migration not yet applied, each in its own transaction; return the version.

    The version is read inside the write transaction, so processes that start together on
    one database take turns: each migration runs exactly once."""
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
            if version >= len(MIGRATIONS):
                connection.commit()
                return version
            step = MIGRATIONS[version]
            if isinstance(step, str):
                for statement in _statements(step):
                    connection.execute(statement)
            else:
                step(connection)
            connection.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


def _statements(script: str) -> list[str]:
    """The script's statements; a trigger's body (`BEGIN ...; ...; END`) stays whole."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    return statements
