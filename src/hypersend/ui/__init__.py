"""The HyperSend app (Flet): the same code runs as a web app, a desktop app and an Android APK.

Everything it says to the server goes through `hypersend.client`.
"""
