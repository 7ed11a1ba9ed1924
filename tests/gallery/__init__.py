"""The mutation gallery: deliberately broken Downlinks implementations, each breaking one
rule of behaviour.md, and the proof that the contract suite catches every one of them."""
