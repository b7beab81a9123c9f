"""torch.backends as a CPU-only build reports it: cuDNN and MPS absent, flags settable."""
import types


class _Flags(types.SimpleNamespace):
    pass


cudnn = _Flags(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
               is_available=lambda: False, version=lambda: None)
mps = _Flags(is_available=lambda: False, is_built=lambda: False)
cuda = _Flags(matmul=_Flags(allow_tf32=False), is_built=lambda: False)
