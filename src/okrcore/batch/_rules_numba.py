"""The rules of :mod:`okrcore.batch.rules` bound to the numba operations (one row at a time).

Every function here is made by :func:`okrcore.batch.rules.instantiate`: a function object over
the code object of the rule of the same name in :mod:`okrcore.batch.rules`, whose globals are
this module's, where ``ops`` is :mod:`okrcore.batch._ops_numba`.  No rule is written here.
:func:`okrcore.batch._numba.load` registers each with numba (inlined into the kernels); a real
module, so that numba's on-disk cache finds these globals again in a new process.  This module
imports no numba.
"""

from __future__ import annotations

from okrcore.batch import _ops_numba, rules

rules.instantiate(_ops_numba, globals())
