// agentrt CPU attention over SGLang's KV pool (extend and decode).
//
// For each request, K/V rows are gathered once from the pool through req_to_token; the work is
// then split into tasks (kv head x block of new queries) run in parallel with at::parallel_for.
// A task computes, for the G query heads that share one KV head (GQA) and a block of new
// queries, S = Q K^T * scale over only the keys the block can see (causal with offset p), masks
// the upper triangle of the block in place, softmaxes and multiplies by V:
//
//    keys  [0 ........... p | p ............. p+n)        p = cached prefix, n = new tokens
//    query block [j0, j1) sees keys [0, p + j1); row j sees [0, p + j]
//
// Cost: O(n * (p + n) * D) per head, never O((p + n)^2) for a cached prefix. Matrix products go
// through ATen (MKL / oneDNN GEMM, vectorised for the CPU it runs on).
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace {

constexpr int64_t kQueryBlock = 128;

struct Task {
  int64_t kv_head;
  int64_t q_begin;  // relative to the request's first new token
  int64_t q_end;
};

// Attention for one request. q: [n, H, D]; k, v: [L, Hkv, D*]; out: [n, H, Dv].
void request_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       at::Tensor& out, int64_t prefix, double scale, bool causal) {
  const int64_t n = q.size(0), heads = q.size(1), kv_heads = k.size(1);
  const int64_t group = heads / kv_heads, total = k.size(0);
  std::vector<Task> tasks;
  for (int64_t h = 0; h < kv_heads; ++h)
    for (int64_t j = 0; j < n; j += kQueryBlock)
      tasks.push_back({h, j, std::min(n, j + kQueryBlock)});

  at::parallel_for(0, static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const Task& task = tasks[t];
      const int64_t rows = task.q_end - task.q_begin;
      const int64_t visible = causal ? std::min(total, prefix + task.q_end) : total;
      // [rows, group, D] -> [rows * group, D]; row (j, g) is query j of head h*group+g
      at::Tensor qg = q.narrow(0, task.q_begin, rows)
                          .narrow(1, task.kv_head * group, group)
                          .reshape({rows * group, q.size(2)});
      at::Tensor kh = k.narrow(0, 0, visible).select(1, task.kv_head);   // [visible, D]
      at::Tensor vh = v.narrow(0, 0, visible).select(1, task.kv_head);   // [visible, Dv]
      at::Tensor scores = at::mm(qg, kh.t()).mul_(scale);                  // [rows*group, vis]
      if (causal) {
        float* s = scores.data_ptr<float>();
        const float neg_inf = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < rows; ++j) {
          const int64_t first_hidden = prefix + task.q_begin + j + 1;
          if (first_hidden >= visible) continue;
          for (int64_t g = 0; g < group; ++g)
            std::fill(s + (j * group + g) * visible + first_hidden,
                      s + (j * group + g + 1) * visible, neg_inf);
        }
      }
      at::Tensor probs = at::softmax(scores, -1);
      at::Tensor o = at::mm(probs, vh).view({rows, group, vh.size(1)});
      out.narrow(0, task.q_begin, rows).narrow(1, task.kv_head * group, group).copy_(o);
    }
  });
}

void check_inputs(const at::Tensor& q, const at::Tensor& k_cache, const at::Tensor& v_cache,
                  const at::Tensor& out) {
  TORCH_CHECK(q.device().is_cpu(), "agentrt cpu attention: tensors must be on the CPU");
  TORCH_CHECK(q.scalar_type() == at::kFloat && k_cache.scalar_type() == at::kFloat &&
                  v_cache.scalar_type() == at::kFloat && out.scalar_type() == at::kFloat,
              "agentrt cpu attention: float32 only (the torch fallback handles other dtypes)");
  TORCH_CHECK(q.dim() == 3 && k_cache.dim() == 3 && v_cache.dim() == 3 && out.dim() == 3,
              "agentrt cpu attention: q/out [T, H, D], caches [N, Hkv, D]");
  TORCH_CHECK(q.size(1) % k_cache.size(1) == 0, "query heads must be a multiple of kv heads");
}

}  // namespace

at::Tensor extend_attention(at::Tensor q, at::Tensor k_cache, at::Tensor v_cache,
                            at::Tensor req_to_token, at::Tensor req_pool_indices,
                            at::Tensor seq_lens, at::Tensor prefix_lens, at::Tensor extend_lens,
                            double scale, bool causal, at::Tensor out) {
  check_inputs(q, k_cache, v_cache, out);
  auto reqs = req_pool_indices.to(at::kLong), totals = seq_lens.to(at::kLong);
  auto prefixes = prefix_lens.to(at::kLong), news = extend_lens.to(at::kLong);
  const int64_t batch = reqs.size(0);
  int64_t start = 0;
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t r = reqs[i].item<int64_t>(), total = totals[i].item<int64_t>();
    const int64_t prefix = prefixes[i].item<int64_t>(), n = news[i].item<int64_t>();
    if (n == 0) continue;
    TORCH_CHECK(prefix + n == total, "extend: prefix + new tokens must equal the sequence length");
    at::Tensor slots = req_to_token[r].narrow(0, 0, total).to(at::kLong);
    at::Tensor k = k_cache.index_select(0, slots), v = v_cache.index_select(0, slots);
    at::Tensor o = out.narrow(0, start, n);
    request_attention(q.narrow(0, start, n), k, v, o, prefix, scale, causal);
    start += n;
  }
  return out;
}

at::Tensor decode_attention(at::Tensor q, at::Tensor k_cache, at::Tensor v_cache,
                            at::Tensor req_to_token, at::Tensor req_pool_indices,
                            at::Tensor seq_lens, double scale, at::Tensor out) {
  check_inputs(q, k_cache, v_cache, out);
  auto reqs = req_pool_indices.to(at::kLong), totals = seq_lens.to(at::kLong);
  const int64_t batch = reqs.size(0);
  at::parallel_for(0, batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t r = reqs[i].item<int64_t>(), total = totals[i].item<int64_t>();
      at::Tensor slots = req_to_token[r].narrow(0, 0, total).to(at::kLong);
      at::Tensor k = k_cache.index_select(0, slots), v = v_cache.index_select(0, slots);
      at::Tensor o = out.narrow(0, i, 1);
      request_attention(q.narrow(0, i, 1), k, v, o, total - 1, scale, /*causal=*/false);
    }
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "agentrt CPU attention over SGLang's KV pool";
  m.def("extend_attention", &extend_attention, "extend attention: new queries vs prefix+new keys");
  m.def("decode_attention", &decode_attention, "decode attention: one query per request");
}
