"""What every tab shares: turning library errors into messages the user sees, and display sizes."""

from __future__ import annotations

import functools

import gradio as gr

DISPLAY_SCALE = 4  # 28x28 digits are shown 4x larger, nearest-neighbour (pixels stay sharp)


def user_errors(handler):
    """Run a handler; a ValueError from the library becomes a gr.Error with the same message.

    The app keeps serving: the user sees the message next to the component, API callers get it
    as the error of their call.
    """

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except ValueError as err:
            raise gr.Error(str(err)) from err

    return wrapper


def required(name: str, value):
    """Reject a missing input (an API call may send null) with a message naming it."""
    if value is None or value == "":
        raise ValueError(f"{name} is required")
    return value


def uploaded_path(value) -> str:
    """The file path of an upload, whether it arrives as Gradio's file payload or as a plain path."""
    path = value.get("path") if isinstance(value, dict) else value
    if not isinstance(path, str) or not path:
        raise ValueError("upload an image file")
    return path
