"""chainrule.optim: optimizers and learning-rate schedulers (PyTorch's torch.optim)."""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adam_variants import Adamax, NAdam, RAdam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
