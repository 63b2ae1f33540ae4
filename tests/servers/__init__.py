"""Local HTTP servers the tests talk to: the reference agent in-process, and an OpenAI-compatible fake."""
