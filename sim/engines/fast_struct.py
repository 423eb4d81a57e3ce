"""How the compiled engine's arrays reach the kernel: one pointer per bundle, nothing reference-counted.

The Python side keeps a model's and a replication's arrays in named tuples
(:mod:`sim.engines.fast_model`). Passed to numba as they are, a named tuple
travels field by field through every call that is not inlined (measured: a
microsecond a call with 60 arrays). A numba ``StructRef`` travels as one
pointer, but numba counts references to it and to its arrays with atomic
increments at every call and every field read: that was 40% of the kernel's time.

So :func:`to_kernel` packs a named tuple into a ``StructRef`` whose arrays are
*borrowed* (they do not own their memory, so reading them counts nothing), and
the kernel's entry points turn the ``StructRef`` into a :class:`Raw` view
(:func:`raw`): a plain pointer to the same fields, which numba does not count
at all. Borrowing is safe because the named tuple owns the arrays and the
caller keeps it (and the ``StructRef``) alive while the kernel runs.

With ``NUMBA_DISABLE_JIT=1`` the kernel runs as plain Python (slowly: for
coverage and debugging); :data:`INTERPRETED` is then true, the kernel reads
the named tuples themselves and :func:`raw` and :func:`prefetch` do nothing.

numba's on-disk cache (``cache=True``) pickles these types into the index of
every kernel function; renaming or moving a class here makes numba fail to
read that index (it does not treat it as stale): after such a change delete
``sim/engines/__pycache__``. Changing the fields is fine (a new signature).
"""

from __future__ import annotations

from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils, imputils
from numba.core.datamodel import models
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref
from numba.experimental.structref import _Utils
from numba.extending import infer_getattr, intrinsic, lower_getattr_generic, register_model

INTERPRETED = bool(config.DISABLE_JIT)  # NUMBA_DISABLE_JIT=1: every njit function is plain Python


class _Fields(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class ModelStruct(_Fields):
    pass


@structref.register
class StateStruct(_Fields):
    pass


class Raw(types.Type):
    """A pointer to the fields of a ``StructRef`` (of type ``struct``); numba does not count references to it."""

    def __init__(self, struct):
        self.struct = struct
        super().__init__(name=f"Raw({struct.name})")


@register_model(Raw)
class _RawModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        data = dmm.lookup(fe_type.struct.get_data_type()).get_value_type()
        super().__init__(dmm, fe_type, data.as_pointer())


@infer_getattr
class _RawAttribute(AttributeTemplate):
    key = Raw

    def generic_resolve(self, typ, attr):
        return typ.struct.field_dict.get(attr)


@lower_getattr_generic(Raw)
def _raw_getattr(context, builder, typ, val, attr):
    data = cgutils.create_struct_proxy(typ.struct.get_data_type())(context, builder, ref=val)
    return imputils.impl_ret_borrowed(context, builder, typ.struct.field_dict[attr], getattr(data, attr))


@intrinsic
def raw(typingctx, ref):
    """The :class:`Raw` view of the StructRef ``ref`` (valid while ``ref`` is alive)."""

    def codegen(context, builder, sig, args):
        return _Utils(context, builder, sig.args[0]).get_data_pointer(args[0])

    return Raw(ref)(ref), codegen


@intrinsic
def _borrowed(typingctx, fields):
    """The tuple ``fields`` with every array replaced by a view that does not own its memory."""

    def codegen(context, builder, sig, args):
        values = []
        for i, ty in enumerate(sig.args[0].types):
            value = builder.extract_value(args[0], i)
            if isinstance(ty, types.Array):
                src = context.make_array(ty)(context, builder, value=value)
                view = context.make_array(ty)(context, builder)
                context.populate_array(view, data=src.data, shape=src.shape, strides=src.strides,
                                       itemsize=src.itemsize, meminfo=None, parent=None)  # fmt: skip
                value = view._getvalue()
            values.append(value)
        return context.make_tuple(builder, sig.return_type, values)

    return fields(fields), codegen


class _ModelProxy(structref.StructRefProxy):
    pass


class _StateProxy(structref.StructRefProxy):
    pass


def define(model_fields: tuple[str, ...], state_fields: tuple[str, ...]) -> None:
    """Give the two StructRef types their fields (once, from the named tuples' fields)."""
    structref.define_proxy(_ModelProxy, ModelStruct, list(model_fields))
    structref.define_proxy(_StateProxy, StateStruct, list(state_fields))


@njit(cache=True)
def model_struct(fields):
    return _ModelProxy(*_borrowed(fields))


@njit(cache=True)
def state_struct(fields):
    return _StateProxy(*_borrowed(fields))


@intrinsic
def prefetch(typingctx, array, index):
    """Ask the CPU to start loading ``array[index]`` into cache (a hint: nothing happens if it cannot)."""

    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, value=args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]),
                                            f"llvm.prefetch.{ptr.type.intrinsic_name}")  # fmt: skip
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all cache levels, data
        return context.get_dummy_value()

    return types.void(array, types.intp), codegen


if INTERPRETED:  # the intrinsics above exist only in compiled code

    def raw(ref):  # noqa: F811 (the compiled version's stand-in)
        return ref

    def prefetch(array, index):  # noqa: F811
        return None
