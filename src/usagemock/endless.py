"""Responses that stream until the client leaves, and how they say so to the server.

The panel's request log is such a response: an event stream with no end. It puts
:data:`ENDLESS` in its request's ``state``; at shutdown the server (``cli/onewrite.py``) ends
it, as it ends an idle connection, instead of waiting out the graceful timeout for a response
that never finishes and then cancelling it with a traceback.
"""

#: The key in a request's ``state`` (``scope["state"]``) that marks its response as endless.
ENDLESS = "usagemock.endless"
