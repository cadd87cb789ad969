"""Speech: text fit to speak (text.py), and narration to MP3 with edge-tts online and piper offline (narrator.py)."""
