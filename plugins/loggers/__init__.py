"""Logger plugins: one per module, each sending finished runs to an experiment tracker (mlflow, wandb)."""
