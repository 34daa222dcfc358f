"""The attendant (job number 9000): the phrasebook's scripts over a channel-independent
dialogue port, run by the phone flow and by the text channel alike."""
