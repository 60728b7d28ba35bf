import TensorEngine
print("rt")
