"""Talking to VK: the gateway (the only code that calls vk_api), event sources, normalized events."""
