"""Outboxes and the senders that drain them: resumable, paced, batched, never doubling a message."""
