"""Errors of the batch jobs; each maps to one exit status of the ``slicing`` command.

=====  ===========================================================================
 0     done
 1     an SF failed (``SFApplicationError`` / ``SFOutputError``; see ``--fault-tolerant``)
 2     bad input or usage: :class:`BatchInputError` and its subclasses
 4     the output could not be written: :class:`BatchOutputError` (3 is taken by
       ``slicing gate``'s "investigate")
 130   interrupted (Ctrl-C)
=====  ===========================================================================
"""


class BatchInputError(Exception):
    """Bad input to a batch job: a missing file, a bad SF spec, an existing output, ...

    The command line prints the message and exits with status 2.
    """


class InputFileError(BatchInputError):
    """One input file cannot be used: not Parquet, a missing column, a wrong value.

    The message names the file (and the column); raised on the client or inside a
    Dask task, and picklable either way.
    """


class OutputInUseError(BatchInputError):
    """Another run holds the lock on this output (exit status 2)."""


class BatchOutputError(Exception):
    """The output could not be written: read-only filesystem, full disk, a staging
    directory that does not add up. Nothing is committed; partitions already staged are
    kept for ``--resume`` where that is safe. The command line exits with status 4.
    """
