"""One exchange and the loops around it: a turn (request, stream, accumulate, render, record),
the tool loop, and the doctor's probes. Output goes to the renderers it is handed; nothing
here prints or reads the environment.
"""
