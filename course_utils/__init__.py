"""Helpers for the open course on image segmentation.

One module per concern; import what a lesson needs, e.g. ``from course_utils import images, runtime``.
"""

__version__ = "0.1.0"
