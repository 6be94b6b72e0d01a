"""The network preprocessors (annotators): line art, soft edge, depth, run
from weights the artist already has, in the layouts controlnet-aux, ComfyUI's
comfyui_controlnet_aux node and A1111's ControlNet extension keep them.

One module per network (the architecture, re-implemented so the published
state dicts load, and how controlnet-aux turns its output into a control
image); loading.py finds the files, loads them safely and keeps them.
preprocessors.py is the registry that names them."""
