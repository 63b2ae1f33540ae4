"""One use case per chat command; `RunCommand` routes to them."""
