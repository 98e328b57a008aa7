"""Critics judge a paper's abstract and conclusion against the reader's constitution.

``base.Critic`` is the one interface; ``offline.EmbeddingCritic`` (default, no
network) and ``llm.LLMCritic`` (OpenAI-compatible endpoint via langchain) implement it.
"""
