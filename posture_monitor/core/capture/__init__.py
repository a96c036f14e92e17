"""Frames in: cameras, video files, images and folders, read on their own thread."""
