"""The engine: inbox, dispatcher, per-user state machines and the context flows receive."""
