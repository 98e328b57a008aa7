"""The app's screens: the reading log and its modal dialogs."""
