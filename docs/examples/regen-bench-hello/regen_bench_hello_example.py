from regen_bench import Component, Metric, MetricOutput, Model, ModelOptions, hookimpl


class HelloOptions(ModelOptions):
    greeting: str = "This user likes"


class HelloModel(Model):
    """Names the categories of the user's last three purchases."""

    name = "hello-example"
    description = "Greets the user with their recent categories"
    Options = HelloOptions

    def generate(self, examples, task):
        out = []
        for example in examples:
            recent = [p.item.category or p.item.title or "" for p in example.history[-3:]]
            out.append(f"{self.options.greeting} {', '.join(recent)}.")
        return out


class WordCount(Metric):
    """Mean number of words in a generated narrative."""

    name = "hello-example-words"
    description = "Mean words per narrative"
    higher_is_better = False

    def score(self, predictions, references, examples):
        return MetricOutput([Component.mean("hello-example-words", [len(p.split()) for p in predictions])])


@hookimpl
def register_models(register):
    register(HelloModel)


@hookimpl
def register_metrics(register):
    register(WordCount)
