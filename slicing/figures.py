"""Matplotlib figures that show themselves in Jupyter, built without ``pyplot``.

The plot functions of the package build their figures here. ``pyplot`` keeps global
state (a list of open figures, a backend chosen on import), so a library that imports
it changes its users' programs; a bare ``matplotlib.figure.Figure`` avoids that, but a
Jupyter kernel that never imported ``pyplot`` shows it only as the text
``<Figure size 700x315 with 1 Axes>``. :class:`DisplayFigure` adds the hook IPython
looks for (``_repr_png_``) and draws itself with the Agg renderer, the one
``savefig`` already uses for PNG files, so nothing global changes.

When ``%matplotlib inline`` is active, IPython's own PNG printer for ``Figure`` is
registered by type and takes precedence over the method: the figure is still drawn
once, by the printer, and never twice.
"""

import io
from typing import Any, Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["DisplayAxes", "DisplayFigure", "figure_png", "new_figure"]

#: Resolution of the PNG shown in notebooks (the inline backend's).
PNG_DPI = 100


def figure_png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes, drawn by the Agg renderer (no ``pyplot``).

    Parameters
    ----------
    figure
        Any matplotlib figure.

    Returns
    -------
    bytes
        The PNG file's content, cropped to the drawn artists.

    Examples
    --------
    >>> figure_png(Figure(figsize=(1, 1)))[:4]
    b'\x89PNG'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", dpi=PNG_DPI)
    return buffer.getvalue()


class DisplayFigure(Figure):
    """A ``Figure`` that a notebook displays as a picture, not as its ``repr`` text.

    Everything else is ``matplotlib.figure.Figure``: ``savefig``, ``add_subplot``,
    ``axes``. Build one with :func:`new_figure`.

    Examples
    --------
    >>> fig = DisplayFigure(figsize=(2, 1))
    >>> _ = fig.add_subplot().plot([0, 1], [1, 0])
    >>> fig._repr_png_()[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes, for IPython's display machinery."""
        return figure_png(self)


class DisplayAxes(Axes):
    """Axes that a notebook displays as the picture of their whole figure.

    For plot functions that return their ``Axes`` (so that callers can draw more on
    them) and should still show a picture when they are a cell's last expression.

    Examples
    --------
    >>> ax = new_figure(figsize=(2, 1)).add_subplot(axes_class=DisplayAxes)
    >>> ax._repr_png_()[:4]
    b'\\x89PNG'
    """

    def _repr_png_(self) -> bytes:
        """The PNG of the figure that holds these axes."""
        return figure_png(self.figure.figure)  # the root figure, also from a subfigure


def new_figure(
    figsize: tuple[float, float],
    *,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
    **kwargs: Any,
) -> DisplayFigure:
    """A new :class:`DisplayFigure`, outside ``pyplot``'s list of open figures.

    Parameters
    ----------
    figsize
        Width and height in inches.
    layout
        Matplotlib's layout engine; ``"constrained"`` keeps labels, colour bars and
        legends placed outside the axes from overlapping.
    **kwargs
        Passed to ``matplotlib.figure.Figure``.

    Returns
    -------
    DisplayFigure

    Examples
    --------
    >>> fig = new_figure((4, 2))
    >>> fig.get_size_inches().tolist()
    [4.0, 2.0]
    """
    return DisplayFigure(figsize=figsize, layout=layout, **kwargs)
