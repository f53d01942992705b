"""Plumbing every layer shares and no layer owns: writing results safely (files), progress bars
(progress), and messages meant for the user (messages).
May import: the standard library only (tqdm inside `progress`, when installed); nothing else of pyjinit.
"""
