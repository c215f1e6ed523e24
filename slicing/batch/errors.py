"""The error type for mistakes in a batch job's input (reported without a traceback)."""


class BatchInputError(Exception):
    """Bad input to a batch job: a missing file, a bad SF spec, an existing output, ...

    The command line prints the message and exits with status 2.
    """
