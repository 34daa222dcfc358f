"""The running hotline: composition root, controller and console."""
