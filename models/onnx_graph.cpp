#include "models/onnx_graph.hpp"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace harness::models {
namespace {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; this writer copies host floats as they are");

void describe(onnx::ValueInfoProto* info, const std::string& name,
              const std::vector<std::int64_t>& dims) {
  info->set_name(name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) tensor->mutable_shape()->add_dim()->set_dim_value(d);
}

std::int64_t element_count(const std::vector<std::int64_t>& dims) {
  std::int64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

}  // namespace

std::string OnnxGraph::unique(const std::string& name) {
  int& uses = used_[name];
  return uses++ == 0 ? name : name + "_" + std::to_string(uses - 1);
}

std::string OnnxGraph::initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                   const std::vector<float>& values) {
  if (element_count(dims) != static_cast<std::int64_t>(values.size()))
    throw std::logic_error("initializer " + name + ": shape and value count differ");
  auto* t = graph_->add_initializer();
  t->set_name(unique(name));
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->add_dims(d);
  std::string raw(values.size() * sizeof(float), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  t->set_raw_data(std::move(raw));
  return t->name();
}

std::string OnnxGraph::initializer_i64(const std::string& name,
                                       const std::vector<std::int64_t>& dims,
                                       const std::vector<std::int64_t>& values) {
  if (element_count(dims) != static_cast<std::int64_t>(values.size()))
    throw std::logic_error("initializer " + name + ": shape and value count differ");
  auto* t = graph_->add_initializer();
  t->set_name(unique(name));
  t->set_data_type(onnx::TensorProto::INT64);
  for (auto d : dims) t->add_dims(d);
  for (auto v : values) t->add_int64_data(v);
  return t->name();
}

onnx::NodeProto& OnnxGraph::node(const std::string& op, const std::string& name,
                                 const std::vector<std::string>& inputs, int outputs) {
  auto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(unique(name));
  for (const auto& in : inputs) n->add_input(in);
  for (int i = 0; i < outputs; ++i) n->add_output(n->name() + ":" + std::to_string(i));
  return *n;
}

void OnnxGraph::input(const std::string& name, const std::vector<std::int64_t>& dims) {
  describe(graph_->add_input(), name, dims);
}

void OnnxGraph::output(const std::string& name, const std::vector<std::int64_t>& dims) {
  describe(graph_->add_output(), name, dims);
}

void set_attr(onnx::NodeProto& node, const std::string& name, std::int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name,
              const std::vector<std::int64_t>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

}  // namespace harness::models
