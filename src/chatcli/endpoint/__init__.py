"""The endpoint: the only HTTP client (auth, trace ids, timeouts, retries, redirects), the
request body as it goes out, the fields an endpoint rejected, and what it says about a model.

Nothing here prints; every failure leaves as a ``RequestError`` carrying its facts.
"""
