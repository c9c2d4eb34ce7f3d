"""The composition root: the only floor that knows every other one. It wires a bot for each community
(storage, VK, engine, services, delivery, scheduler), runs them in one process or several, and runs the
demo; nothing imports it but the command line."""
