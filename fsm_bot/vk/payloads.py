"""What the bot's own buttons carry in their payload, kept short: VK allows 255 characters a payload.

A dialog's button names its flow, the dialog's version (an old or double-pressed button is recognised)
and a value; a command button names the flow it starts and perhaps a value. The engine reads them back,
and the services build the buttons that outlive a dialog («Ознакомлен», a report's «Кто не прочитал»).
"""

FLOW_KEY, VERSION_KEY, VALUE_KEY, COMMAND_KEY = "f", "v", "b", "c"
START_PAYLOAD_KEY = "command"  # VK's own "Start" button sends {"command": "start"}
