"""CMAF packaging: ISO-BMFF boxes, segmenting, HLS and DASH manifests. Never touches the network."""
