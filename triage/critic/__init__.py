"""Critics judge a paper's abstract and conclusion against the reader's constitution.

``base.Critic`` is the one interface; ``offline.PersonalCritic`` (default, no
network: the reader model of ``model.py``, learned from the reader's decisions)
and ``llm.LLMCritic`` (OpenAI-compatible endpoint via langchain) implement it.
"""
