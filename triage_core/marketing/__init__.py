"""Marketing analytics: campaign attribution, impact and spikes."""
