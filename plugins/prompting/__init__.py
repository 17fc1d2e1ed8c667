"""Shared by the prompting model plugins (llm-openai, llm-gemini, llm-local): prompt templates and the prompting base model."""
