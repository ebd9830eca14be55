// Kernels that move values without computing new ones: reshape, transpose, slicing, joining, splitting,
// padding, tiling, broadcasting, gathering, reversing, one-hot. Most return views of their input: tfjs never
// writes into a tensor, so a view can share storage safely. Axes arrive normalised (non-negative) from JS.
#include <ATen/TensorIndexing.h>

#include "tensor_handle.h"

namespace arith {

namespace {

// reshape(x, shape)
Napi::Value Reshape(const Napi::CallbackInfo& info) { return Put(info.Env(), Get(info[0]).reshape(IntList(info[1]))); }

// transpose(x, perm)
Napi::Value Transpose(const Napi::CallbackInfo& info) { return Put(info.Env(), Get(info[0]).permute(IntList(info[1]))); }

// slice(x, begin, size)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  auto x = Get(info[0]);
  const auto begin = IntList(info[1]);
  const auto size = IntList(info[2]);
  for (size_t d = 0; d < begin.size(); d++) {
    if (begin[d] != 0 || size[d] != x.size(d)) x = x.narrow(static_cast<int64_t>(d), begin[d], size[d]);
  }
  return Put(info.Env(), x);
}

// stridedSlice(x, begin, end, strides, outputShape): begin/end/strides per axis of x as tfjs's sliceInfo
// resolves them (a negative stride walks backwards from begin towards end, exclusive), then a reshape that
// drops shrunk axes and adds new ones.
Napi::Value StridedSlice(const Napi::CallbackInfo& info) {
  auto x = Get(info[0]);
  const auto begin = IntList(info[1]);
  const auto end = IntList(info[2]);
  const auto strides = IntList(info[3]);
  for (size_t i = 0; i < begin.size(); i++) {
    const auto d = static_cast<int64_t>(i);
    const int64_t stride = strides[i];
    const int64_t count = std::max<int64_t>(0, (end[i] - begin[i] + stride + (stride > 0 ? -1 : 1)) / stride);
    if (count == 0) {
      x = x.narrow(d, 0, 0);
    } else if (stride > 0) {
      x = x.slice(d, begin[i], begin[i] + (count - 1) * stride + 1, stride);
    } else {
      const int64_t start = x.size(d) - 1 - begin[i];  // position of begin in the flipped axis
      x = x.flip(d).slice(d, start, start + (count - 1) * -stride + 1, -stride);
    }
  }
  return Put(info.Env(), x.reshape(IntList(info[4])));
}

// concat([ids], axis)
Napi::Value Concat(const Napi::CallbackInfo& info) { return Put(info.Env(), at::cat(GetList(info[0]), Int(info[1]))); }

// stack([ids], axis)
Napi::Value Stack(const Napi::CallbackInfo& info) { return Put(info.Env(), at::stack(GetList(info[0]), Int(info[1]))); }

// unstack(x, axis) -> [ids]
Napi::Value Unstack(const Napi::CallbackInfo& info) { return PutList(info.Env(), at::unbind(Get(info[0]), Int(info[1]))); }

// split(x, sizes, axis) -> [ids]
Napi::Value Split(const Napi::CallbackInfo& info) { return PutList(info.Env(), at::split_with_sizes(Get(info[0]), IntList(info[1]), Int(info[2]))); }

// pad(x, [before0, after0, before1, after1, ...], value)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  const auto paddings = IntList(info[1]);
  // libtorch lists pads from the last axis backwards.
  std::vector<int64_t> pad;
  for (int64_t d = x.dim() - 1; d >= 0; d--) {
    pad.push_back(paddings[2 * d]);
    pad.push_back(paddings[2 * d + 1]);
  }
  return Put(info.Env(), at::constant_pad_nd(x, pad, at::Scalar(Number(info[2]))));
}

// tile(x, reps)
Napi::Value Tile(const Napi::CallbackInfo& info) { return Put(info.Env(), Get(info[0]).repeat(IntList(info[1]))); }

// broadcastTo(x, shape)
Napi::Value BroadcastTo(const Napi::CallbackInfo& info) { return Put(info.Env(), Get(info[0]).expand(IntList(info[1]))); }

// gather(x, indices, axis): x.shape[:axis] + indices.shape + x.shape[axis+1:] (tfjs's GatherV2, batchDims 0).
Napi::Value Gather(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  const auto& indices = Get(info[1]);
  const auto axis = Int(info[2]);
  auto picked = at::index_select(x, axis, indices.reshape({-1}).to(at::kLong));
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
  shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
  return Put(info.Env(), picked.reshape(shape));
}

// unsortedSegmentSum(x, segmentIds, numSegments): out[s] = sum of the rows of x whose id is s, where the ids
// index x's leading axes; ids outside [0, numSegments) are dropped (tf.gather's gradient).
Napi::Value UnsortedSegmentSum(const Napi::CallbackInfo& info) {
  const auto& x = Get(info[0]);
  auto ids = Get(info[1]).reshape({-1}).to(at::kLong);
  const auto segments = Int(info[2]);
  auto rows = x.reshape({ids.size(0), -1});
  const auto keep = (ids >= 0).logical_and(ids < segments);
  std::vector<int64_t> shape{segments};
  shape.insert(shape.end(), x.sizes().begin() + Get(info[1]).dim(), x.sizes().end());
  auto out = at::zeros({segments, rows.size(1)}, x.options());
  out.index_add_(0, ids.masked_select(keep), rows.index({keep}));
  return Put(info.Env(), out.reshape(shape));
}

// reverse(x, axes)
Napi::Value Reverse(const Napi::CallbackInfo& info) {
  const auto axes = IntList(info[1]);
  if (axes.empty()) return Put(info.Env(), Get(info[0]));
  return Put(info.Env(), Get(info[0]).flip(axes));
}

// oneHot(indices, depth, onValue, offValue, dtypeCode): indices outside [0, depth) give a row of offValue.
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  const auto& indices = Get(info[0]);
  const auto depth = Int(info[1]);
  const double on = Number(info[2]);
  const double off = Number(info[3]);
  const auto type = ScalarTypeOf(static_cast<int32_t>(Int(info[4])));
  auto hot = indices.unsqueeze(-1).eq(at::arange(depth, indices.options()));
  if (on == 1 && off == 0) return Put(info.Env(), hot.to(type));
  return Put(info.Env(), at::where(hot, at::scalar_tensor(on, hot.options().dtype(type)), at::scalar_tensor(off, hot.options().dtype(type))));
}

}  // namespace

static void InitShape(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "reshape", Reshape);
  Export(env, exports, "transpose", Transpose);
  Export(env, exports, "slice", Slice);
  Export(env, exports, "stridedSlice", StridedSlice);
  Export(env, exports, "concat", Concat);
  Export(env, exports, "stack", Stack);
  Export(env, exports, "unstack", Unstack);
  Export(env, exports, "split", Split);
  Export(env, exports, "pad", Pad);
  Export(env, exports, "tile", Tile);
  Export(env, exports, "broadcastTo", BroadcastTo);
  Export(env, exports, "gather", Gather);
  Export(env, exports, "unsortedSegmentSum", UnsortedSegmentSum);
  Export(env, exports, "reverse", Reverse);
  Export(env, exports, "oneHot", OneHot);
}

ARITH_MODULE(shape, InitShape);

}  // namespace arith
