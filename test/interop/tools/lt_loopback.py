"""The libtorrent session every interop script starts: listening on 127.0.0.1 only, with DHT,
LSD, UPnP and NAT-PMP off, so that peers meet only the way a test intends.

tcp_only also turns uTP off and allows several connections from one IP (every peer here is
127.0.0.1); plaintext turns protocol encryption off both ways; alert_mask defaults to every
category. Also the other pieces every script shares: torrent parameters from a .torrent or a
magnet, and the process's memory figures.
"""
import libtorrent as lt


def loopback_session(tcp_only=False, alert_mask=None, plaintext=False):
    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.all_categories if alert_mask is None else alert_mask,
    }
    if tcp_only:
        settings.update({
            "enable_outgoing_utp": False,
            "enable_incoming_utp": False,
            "allow_multiple_connections_per_ip": True,
        })
    if plaintext:
        settings.update({"out_enc_policy": lt.enc_policy.pe_disabled, "in_enc_policy": lt.enc_policy.pe_disabled})
    return lt.session(settings)


def torrent_params(torrent, save_dir):
    """Parameters to add TORRENT, a .torrent path or a magnet link (libtorrent then fetches the
    info dictionary from peers, BEP 9), saving into save_dir."""
    if torrent.startswith("magnet:"):
        params = lt.parse_magnet_uri(torrent)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(torrent)
    params.save_path = save_dir
    return params


def proc_status_mib(field):
    """A /proc/self/status figure (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0
