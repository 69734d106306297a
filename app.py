"""Start the ganapps Gradio app on the weights in checkpoints/ (respects GRADIO_SERVER_NAME / _PORT)."""

import importlib.util

if __name__ != "__mp_main__":  # the theory lab's processes import this file again (multiprocessing): no app there
    from ganapps.ui import CSS, build_demo

    demo = build_demo()

if __name__ == "__main__":
    # With gradio[mcp] installed every endpoint is also an MCP tool, described by its docstring.
    demo.queue().launch(css=CSS, mcp_server=importlib.util.find_spec("mcp") is not None)
