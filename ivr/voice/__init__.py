"""Speech for the IVR: an AudioSocket server in the controller, keyword recognisers behind one interface
(Vosk, PocketSphinx), and ``VoiceService.ask``, the one call the menu engine makes for a voice question."""
