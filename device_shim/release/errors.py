"""The error that every release command reports as an `"ok": false` reply."""


class ReleaseError(Exception):
    """A release command failed; code is the stable machine-readable reason.

    details are extra reply fields, for example the list of corrupt artifacts.
    """

    def __init__(self, code, message, **details):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.details = details

    def reply(self):
        """Build the `"ok": false` reply for this error."""
        reply = {"ok": False, "error": self.message, "code": self.code}
        reply.update(self.details)
        return reply
