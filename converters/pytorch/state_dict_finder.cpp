#include "converters/pytorch/state_dict_finder.hpp"

#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "schema/error.hpp"

namespace supra::pytorch {
namespace {

constexpr int kMaxDepth = 32;
// Bytes of tensor names one checkpoint may flatten to: a long key reused
// through the memo under many dicts would otherwise multiply (pytorch.305).
constexpr uint64_t kBaseNameBudget = 64ull << 20;
constexpr uint64_t kNameBytesPerPickleByte = 4;
// Where training scripts put the weights, most specific first.
constexpr const char* kPreferredKeys[] = {"state_dict", "model_state_dict", "model", "module",
                                          "net", "network", "params", "weights"};

class Finder {
 public:
  Finder(const PickleResult& p, const std::string& file)
      : p_(p), file_(file), name_budget_(kBaseNameBudget + kNameBytesPerPickleByte * p.end) {}

  const PyObject& obj(PyRef r) const { return p_.objects[r]; }

  std::optional<std::string> key_text(PyRef k) const {
    const PyObject& o = obj(k);
    if (o.kind == PyKind::Str) return o.text;
    if (o.kind == PyKind::Int) return std::to_string(o.int_value);
    return std::nullopt;
  }

  // The value under `key` in dict `d` (the last one, as Python keeps it).
  std::optional<PyRef> lookup(PyRef d, const std::string& key) const {
    std::optional<PyRef> found;
    const auto& it = obj(d).items;
    for (size_t i = 0; i + 1 < it.size(); i += 2)
      if (key_text(it[i]) == key) found = it[i + 1];
    return found;
  }

  // Remembered per dict: a dict reached through many paths (the memo can
  // make a dict hold itself twice) is looked into once, not 2^depth times.
  bool holds_tensors(PyRef r, int depth) const {
    if (depth > kMaxDepth) return false;
    const PyObject& o = obj(r);
    if (o.kind == PyKind::Tensor) return true;
    if (o.kind != PyKind::Dict) return false;
    if (auto it = holds_.find(r); it != holds_.end()) return it->second;
    holds_[r] = false;  // while being looked into: a cycle back here adds nothing
    bool found = false;
    for (size_t i = 1; i < o.items.size() && !found; i += 2) found = holds_tensors(o.items[i], depth + 1);
    holds_[r] = found;
    return found;
  }

  // A dict reached a second time (shared through the memo, or holding
  // itself) is flattened only the first time and listed as skipped after:
  // its tensors appear once, and the output cannot outgrow the pickle.
  void flatten(PyRef d, const std::string& prefix, int depth, FoundTensors& out,
               std::map<std::string, size_t>& index) const {
    if (depth > kMaxDepth)
      throw bad_input("pytorch.304", {file_, prefix, {}}, "dicts nested more than 32 deep");
    flattened_.insert(d);
    std::unordered_set<std::string> keys_here;
    const auto& it = obj(d).items;
    for (size_t i = 0; i + 1 < it.size(); i += 2) {
      const auto k = key_text(it[i]);
      const PyObject& v = obj(it[i + 1]);
      if (!k) {
        out.skipped.push_back(prefix + "<" + kind_name(obj(it[i]).kind) + " key>");
        charge_name(out.skipped.back());
        continue;
      }
      const std::string name = prefix + *k;
      const bool repeated_key = !keys_here.insert(*k).second;
      if (v.kind == PyKind::Tensor) {
        if (auto at = index.find(name); at != index.end()) {
          // A repeated key in one dict keeps its last value, as Python does;
          // a clash made by flattening ("a.b" and {"a": {"b"}}) is an error.
          if (out.tensors[at->second].tensor != v.index && !repeated_key)
            throw bad_input("pytorch.303", {file_, name, {}}, "two tensors flatten to this name");
          out.tensors[at->second].tensor = v.index;
          continue;
        }
        charge_name(name);
        index[name] = out.tensors.size();
        out.tensors.push_back({name, v.index});
      } else if (v.kind == PyKind::Dict && flattened_.count(it[i + 1])) {
        out.skipped.push_back(name + " (a dict already read under another name)");
        charge_name(out.skipped.back());
      } else if (v.kind == PyKind::Dict && holds_tensors(it[i + 1], depth + 1)) {
        flatten(it[i + 1], name + ".", depth + 1, out, index);
      } else {
        out.skipped.push_back(name + " (" + kind_name(v.kind) + ")");
        charge_name(out.skipped.back());
      }
    }
  }

  FoundTensors from(PyRef d, const std::string& key) const {
    FoundTensors out;
    out.key = key;
    std::map<std::string, size_t> index;
    flattened_.clear();
    flatten(d, "", 0, out, index);
    return out;
  }

 private:
  void charge_name(const std::string& name) const {
    name_bytes_ += name.size();
    if (name_bytes_ > name_budget_)
      throw bad_input("pytorch.305", {file_, {}, {}},
                      "tensor names add up to more than " + std::to_string(name_budget_ >> 20) +
                          " MiB: refused as a memory bomb");
  }

  const PickleResult& p_;
  const std::string& file_;
  const uint64_t name_budget_;
  mutable uint64_t name_bytes_ = 0;
  mutable std::unordered_map<PyRef, bool> holds_;
  mutable std::set<PyRef> flattened_;
};

std::string list_keys(const Finder& f, PyRef d) {
  std::string s;
  const auto& it = f.obj(d).items;
  for (size_t i = 0; i < it.size() && i < 40; i += 2) {
    const auto k = f.key_text(it[i]);
    s += (s.empty() ? "" : ", ") + (k ? *k : std::string("?"));
  }
  return s.empty() ? "(none)" : s;
}

}  // namespace

FoundTensors find_state_dict(const PickleResult& pickle, const std::string& key, const std::string& file) {
  Finder f(pickle, file);
  const PyRef root = pickle.root;
  const PyObject& r = f.obj(root);
  if (r.kind == PyKind::Tensor) {
    FoundTensors out;
    out.tensors.push_back({"tensor", r.index});
    return out;
  }
  if (r.kind != PyKind::Dict)
    throw bad_input("pytorch.302", {file, {}, {}},
                    std::string("the checkpoint holds a ") + kind_name(r.kind) + ", not a dict of tensors");

  FoundTensors out;
  if (!key.empty()) {
    // An exact key first, then a dotted path through nested dicts.
    std::optional<PyRef> at = f.lookup(root, key);
    if (!at) {
      PyRef cur = root;
      size_t start = 0;
      while (cur != PyRef(-1)) {
        const size_t dot = key.find('.', start);
        auto next = f.obj(cur).kind == PyKind::Dict ? f.lookup(cur, key.substr(start, dot - start)) : std::nullopt;
        if (!next) break;
        if (dot == std::string::npos) {
          at = next;
          break;
        }
        cur = *next;
        start = dot + 1;
      }
    }
    if (!at || f.obj(*at).kind != PyKind::Dict)
      throw bad_input("pytorch.301", {file, {}, {}},
                      "no dict under key '" + key + "'; top-level keys: " + list_keys(f, root));
    out = f.from(*at, key);
  } else {
    std::optional<PyRef> chosen;
    std::string chosen_key;
    bool root_has_tensors = false;
    for (size_t i = 1; i < r.items.size(); i += 2)
      if (f.obj(r.items[i]).kind == PyKind::Tensor) root_has_tensors = true;
    if (!root_has_tensors) {
      for (const char* k : kPreferredKeys) {
        auto v = f.lookup(root, k);
        if (v && f.obj(*v).kind == PyKind::Dict && f.holds_tensors(*v, 0)) {
          chosen = v;
          chosen_key = k;
          break;
        }
      }
      if (!chosen) {
        int candidates = 0;
        for (size_t i = 0; i + 1 < r.items.size(); i += 2)
          if (f.holds_tensors(r.items[i + 1], 0) && f.key_text(r.items[i])) {
            ++candidates;
            chosen = r.items[i + 1];
            chosen_key = *f.key_text(r.items[i]);
          }
        if (candidates != 1) chosen.reset();
      }
    }
    out = chosen ? f.from(*chosen, chosen_key) : f.from(root, "");
  }
  if (!out.key.empty()) {
    // The other top-level entries were left out: say so.
    std::vector<std::string> others;
    for (size_t i = 0; i + 1 < r.items.size(); i += 2) {
      const auto k = f.key_text(r.items[i]);
      if (k && *k != out.key) others.push_back(*k + " (" + kind_name(f.obj(r.items[i + 1]).kind) + ")");
    }
    out.skipped.insert(out.skipped.begin(), others.begin(), others.end());
  }
  if (out.tensors.empty())
    throw bad_input("pytorch.302", {file, {}, {}}, "no tensors found; top-level keys: " + list_keys(f, root));
  return out;
}

void strip_common_module_prefix(std::vector<std::string>& names) {
  for (bool changed = true; changed && !names.empty();) {
    changed = false;
    for (const std::string prefix : {"module.", "_orig_mod."}) {
      bool all = true;
      for (const auto& n : names)
        if (!n.starts_with(prefix) || n.size() == prefix.size()) all = false;
      if (!all) continue;
      for (auto& n : names) n.erase(0, prefix.size());
      changed = true;
    }
  }
}

}  // namespace supra::pytorch
