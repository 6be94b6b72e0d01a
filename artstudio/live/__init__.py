"""Live painting: the frame regenerates as the artist paints (no Qt).

few_step.py the steps and guidance a model runs with live; session.py the
scheduler (one run in flight, one pending, stale results dropped);
run.py the job (image-to-image at the model's size, scaled back);
frame_watch.py which document changes reach the frame's content.
"""
