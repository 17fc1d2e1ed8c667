"""One run: plan, stages (load, split, fit, generate, score, write), executors, the generation cache, scoring."""
