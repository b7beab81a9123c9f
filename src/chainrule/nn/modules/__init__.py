"""All nn modules. Each file owns one family."""
from .activation import *
from .container import *
from .conv import *
from .dropout import *
from .extra import *
from .linear import *
from .loss import *
from .module import *
from .normalization import *
from .pooling import *
from .rnn import *
from .sparse import *
from .transformer import *
