//! The French help of the command line: each English text of the grammar (the doc comments in
//! `mod.rs`, and clap's own flags and `help` commands) with its translation. A test
//! (`localize.rs`) fails when a text of the grammar has none here, or when one here is no
//! longer in the grammar: change both together.
//!
//! Size: one entry per help text of the whole command tree (about 250), in the grammar's
//! order so that a command's texts stay together; data, not logic.

/// (English, French).
pub(super) const HELP_FR: &[(&str, &str)] = &[
    (
        "The maillage node: a federation of France's digital-inclusion hubs on a signed, replicated event log",
        "Le nœud maillage : une fédération des hubs de l'inclusion numérique en France, sur un journal d'événements signé et répliqué",
    ),
    (
        "maillage — a federation of France's digital-inclusion hubs.\n\nEach hub runs a node keeping an append-only, Ed25519-signed log of its venues, vouchers and\nreferrals; nodes replicate every log so no central server is needed.\n\nFirst steps for a hub:\n  maillage init --name \"Hub du Sud\" --territories 04,05,06,13,83,84\n  maillage venues import lieux.json\n  maillage venues list\n  maillage log verify\n\nLanguage: French by default; --lang en or MAILLAGE_LANG=en for English.",
        "maillage — une fédération des hubs de l'inclusion numérique en France.\n\nChaque hub fait tourner un nœud qui tient le journal de ses lieux, pass et orientations,\nsigné (Ed25519) et en ajout seul ; les nœuds répliquent tous les journaux, sans serveur\ncentral.\n\nPremiers pas pour un hub :\n  maillage init --name \"Hub du Sud\" --territories 04,05,06,13,83,84\n  maillage venues import lieux.json\n  maillage venues list\n  maillage log verify\n\nLangue : français par défaut ; --lang en ou MAILLAGE_LANG=en pour l'anglais.",
    ),
    (
        "The node's data directory (key, charter, configuration, store)",
        "Le répertoire de données du nœud (clé, charte, configuration, stockage)",
    ),
    (
        "Log format on stderr",
        "Format des journaux sur la sortie d'erreur",
    ),
    ("Human-readable lines", "Lignes lisibles"),
    ("One JSON object per line", "Un objet JSON par ligne"),
    (
        "More logs (-v: debug, -vv: trace). RUST_LOG overrides",
        "Plus de journaux (-v : debug, -vv : trace) ; RUST_LOG l'emporte",
    ),
    (
        "Sign on this data dir although no daemon serves it and node.toml names peers, without comparing this hub's feed with theirs first (see `maillage serve --help`). Logged",
        "Signer sur ce répertoire de données alors qu'aucun démon ne le sert et que node.toml nomme des pairs, sans comparer d'abord le flux de ce hub avec le leur (voir `maillage serve --help`). Journalisé",
    ),
    (
        "Language of help and messages: fr (French, the default) or en (English). JSON, CSV, ids and codes are the same in both",
        "Langue de l'aide et des messages : fr (français, par défaut) ou en (anglais). Le JSON, le CSV, les identifiants et les codes sont les mêmes dans les deux",
    ),
    ("French", "Français"),
    ("English", "Anglais"),
    (
        "Print help (see more with '--help')",
        "Afficher l'aide (l'aide détaillée : --help)",
    ),
    (
        "Print help (see a summary with '-h')",
        "Afficher l'aide (le résumé : -h)",
    ),
    ("Print version", "Afficher la version"),
    (
        "Run the demo federation on embedded defaults: three hubs of real territories and a national observer, as four nodes replicating over gRPC on loopback ports, play a person's story (a referral, vouchers redeemed in another territory, a claim through a cut link) and end on the same digest; the federation then runs until Ctrl-C",
        "Lancer la fédération de démonstration, sans rien configurer : trois hubs de territoires réels et un observateur national, quatre nœuds qui se répliquent en gRPC sur des ports locaux, jouent le parcours d'une personne (une orientation, des pass utilisés dans un autre territoire, une réclamation à travers un lien coupé) et finissent sur la même empreinte ; la fédération tourne ensuite jusqu'à Ctrl-C",
    ),
    (
        "Run the demo federation on embedded defaults: three hubs of real territories and a national observer, as four nodes replicating over gRPC on loopback ports, play a person's story (a referral, vouchers redeemed in another territory, a claim through a cut link) and end on the same digest; the federation then runs until Ctrl-C.\n\nNothing to configure: venues come from real exports embedded in the binary; each node gets its own data dir under --dir, which stays after the demo.",
        "Lancer la fédération de démonstration, sans rien configurer : trois hubs de territoires réels et un observateur national, quatre nœuds qui se répliquent en gRPC sur des ports locaux, jouent le parcours d'une personne (une orientation, des pass utilisés dans un autre territoire, une réclamation à travers un lien coupé) et finissent sur la même empreinte ; la fédération tourne ensuite jusqu'à Ctrl-C.\n\nRien à configurer : les lieux viennent d'exports réels intégrés au programme ; chaque nœud a son répertoire de données sous --dir, qui reste après la démonstration.",
    ),
    (
        "Where to create the demo's data dirs (must be new or empty; default: a new directory under the system's temporary directory)",
        "Où créer les répertoires de données de la démonstration (nouveau ou vide ; par défaut : un nouveau répertoire dans le répertoire temporaire du système)",
    ),
    (
        "Stop the federation after the story instead of running until Ctrl-C",
        "Arrêter la fédération après le parcours au lieu de tourner jusqu'à Ctrl-C",
    ),
    (
        "Create this node's key and configuration; join or found a federation",
        "Créer la clé et la configuration de ce nœud ; rejoindre ou fonder une fédération",
    ),
    (
        "Create this node's key and configuration; join or found a federation.\n\nWithout options: creates the key and prints the public key to give to the federation's founders. With --charter FILE: joins that federation. With --name and --territories: founds a one-hub federation so you can start immediately.",
        "Créer la clé et la configuration de ce nœud ; rejoindre ou fonder une fédération.\n\nSans option : crée la clé et affiche la clé publique à donner aux fondateurs de la fédération. Avec --charter FICHIER : rejoint cette fédération. Avec --name et --territories : fonde une fédération d'un seul hub pour commencer tout de suite.",
    ),
    (
        "Join the federation described by this charter file (from `maillage federation create`)",
        "Rejoindre la fédération décrite par ce fichier de charte (issu de `maillage federation create`)",
    ),
    (
        "This hub's display name (founding a one-hub federation, or the node's name)",
        "Le nom affiché de ce hub (en fondant une fédération d'un seul hub, ou le nom du nœud)",
    ),
    (
        "Départements this hub holds, comma-separated INSEE codes (e.g. 04,05,06,13,83,84)",
        "Départements tenus par ce hub, codes INSEE séparés par des virgules (par ex. 04,05,06,13,83,84)",
    ),
    (
        "Name of the federation founded with --territories (default: \"<name> federation\")",
        "Nom de la fédération fondée avec --territories (par défaut : \"<name> federation\")",
    ),
    (
        "Found a federation or show this node's",
        "Fonder une fédération ou afficher celle de ce nœud",
    ),
    (
        "Turn a TOML list of members into the charter file and print the FederationId",
        "Transformer une liste TOML de membres en fichier de charte et afficher le FederationId",
    ),
    (
        "Turn a TOML list of members into the charter file and print the FederationId.\n\nThe file lists `name`, optional `admission_threshold`, and `[[members]]` with `name`, `key` (public key hex), `role` (\"hub\" or \"observer\") and `territories` (hubs).",
        "Transformer une liste TOML de membres en fichier de charte et afficher le FederationId.\n\nLe fichier donne `name`, un `admission_threshold` facultatif, et des `[[members]]` avec `name`, `key` (clé publique en hexadécimal), `role` (\"hub\" ou \"observer\") et `territories` (pour les hubs).",
    ),
    ("The members file (TOML)", "Le fichier des membres (TOML)"),
    ("Where to write the charter", "Où écrire la charte"),
    (
        "Show this node's federation: id, members (with the amendments its views hold applied: keys, roles, territories, who left or handed over) and the history of amendments",
        "Afficher la fédération de ce nœud : identifiant, membres (avec les amendements que ses vues appliquent : clés, rôles, territoires, qui est parti ou a passé la main) et l'historique des amendements",
    ),
    (
        "Machine-readable output",
        "Sortie lisible par une machine (JSON)",
    ),
    (
        "Propose a charter amendment, signed by this hub. It takes effect once `threshold` hubs (`federation show`) endorsed it, this proposal counting as this hub's endorsement",
        "Proposer un amendement à la charte, signé par ce hub. Il prend effet une fois que `threshold` hubs (`federation show`) l'ont approuvé, cette proposition valant approbation de ce hub",
    ),
    (
        "Propose a charter amendment, signed by this hub. It takes effect once `threshold` hubs (`federation show`) endorsed it, this proposal counting as this hub's endorsement.\n\nExamples: maillage federation propose --reason \"nouveau hub breton\" admit --key 3b6a… --name \"Hub Ouest\" --territories 29,35 maillage federation propose --reason \"rotation annuelle\" succeed --member \"Hub du Sud\" --successor 9f01… maillage federation propose --reason \"fin du financement\" remove --member \"Hub Ouest\"",
        "Proposer un amendement à la charte, signé par ce hub. Il prend effet une fois que `threshold` hubs (`federation show`) l'ont approuvé, cette proposition valant approbation de ce hub.\n\nExemples :\n  maillage federation propose --reason \"nouveau hub breton\" admit --key 3b6a… --name \"Hub Ouest\" --territories 29,35\n  maillage federation propose --reason \"rotation annuelle\" succeed --member \"Hub du Sud\" --successor 9f01…\n  maillage federation propose --reason \"fin du financement\" remove --member \"Hub Ouest\"",
    ),
    (
        "Why (kept in the federation's history; required)",
        "Pourquoi (gardé dans l'historique de la fédération ; obligatoire)",
    ),
    (
        "Admit a member: a hub holding départements no hub holds, or an observer",
        "Admettre un membre : un hub tenant des départements qu'aucun hub ne tient, ou un observateur",
    ),
    (
        "Its public key, as `maillage init` printed it on its machine",
        "Sa clé publique, telle que `maillage init` l'a affichée sur sa machine",
    ),
    ("Its name", "Son nom"),
    (
        "The départements it holds (a hub), comma-separated INSEE codes",
        "Les départements qu'il tient (un hub), codes INSEE séparés par des virgules",
    ),
    (
        "Admit an observer (a read replica: no territory)",
        "Admettre un observateur (une réplique en lecture : aucun territoire)",
    ),
    (
        "Remove a member: its events after `--last-seq` never count",
        "Retirer un membre : ses événements après `--last-seq` ne comptent jamais",
    ),
    (
        "The member (its key, or part of its name)",
        "Le membre (sa clé, ou une partie de son nom)",
    ),
    (
        "Its last event that counts (default: the last this node holds)",
        "Son dernier événement qui compte (par défaut : le dernier que ce nœud détient)",
    ),
    (
        "Move départements from one hub to another",
        "Déplacer des départements d'un hub à un autre",
    ),
    ("The hub holding them", "Le hub qui les tient"),
    ("The hub receiving them", "Le hub qui les reçoit"),
    (
        "The départements, comma-separated",
        "Les départements, séparés par des virgules",
    ),
    (
        "Change the number of hubs whose endorsement an amendment needs",
        "Changer le nombre de hubs dont un amendement a besoin de l'approbation",
    ),
    (
        "Between 1 and the number of hubs",
        "Entre 1 et le nombre de hubs",
    ),
    (
        "Succeed a member's key: a new key (rotation, a lost or stolen key) or another hub that takes everything over (a hub that closes). The old key's events after `--last-seq` never count",
        "Remplacer la clé d'un membre : une nouvelle clé (rotation, clé perdue ou volée) ou un autre hub qui reprend tout (un hub qui ferme). Les événements de l'ancienne clé après `--last-seq` ne comptent jamais",
    ),
    (
        "The new key (64 hex digits), or the hub taking over",
        "La nouvelle clé (64 chiffres hexadécimaux), ou le hub qui reprend",
    ),
    (
        "The old key's last event that counts (default: the last this node holds; this hub's own proposal when it rotates its own key)",
        "Le dernier événement de l'ancienne clé qui compte (par défaut : le dernier que ce nœud détient ; la proposition de ce hub quand il change sa propre clé)",
    ),
    (
        "After a fork of the member's feed: the id of the event at `--last-seq` that stands (the branch the federation holds)",
        "Après une bifurcation du flux du membre : l'identifiant de l'événement à `--last-seq` qui est retenu (la branche que la fédération garde)",
    ),
    (
        "Move the federation to the next protocol version: from each hub's next event plus `--margin` on, its events follow `--version`. Propose it once every node runs a release that implements that version (docs/protocol.md §0); a node whose feed reaches its switch before the change is in effect in its views signs nothing until it is",
        "Faire passer la fédération à la version suivante du protocole : à partir du prochain événement de chaque hub plus `--margin`, ses événements suivent `--version`. À proposer une fois que chaque nœud tourne avec une version de maillage qui la met en œuvre (docs/protocol.md §0) ; un nœud dont le flux atteint sa bascule avant que le changement soit en vigueur dans ses vues ne signe rien jusque-là",
    ),
    ("The version in effect + 1", "La version en vigueur + 1"),
    (
        "The analysts' export of a generated history held by a real data dir: the time to compute every file (CSV, Parquet, datapackage.json), the time to write them, and their sizes (Parquet against CSV)",
        "L'export des analystes d'un historique généré détenu par un vrai répertoire de données : le temps de calcul de chaque fichier (CSV, Parquet, datapackage.json), le temps de les écrire, et leurs tailles (Parquet face au CSV)",
    ),
    (
        "Day the statuses and figures are computed for",
        "Jour pour lequel les statuts et les chiffres sont calculés",
    ),
    (
        "Keep the exported files in this directory (default: a temporary one, removed)",
        "Garder les fichiers exportés dans ce répertoire (par défaut : un répertoire temporaire, supprimé)",
    ),
    (
        "Open one of this hub's closed venues again (VenueReopened): back on the map, with its record and qualification history",
        "Rouvrir un lieu fermé de ce hub (VenueReopened) : il revient sur la carte, avec sa fiche et l'historique de sa qualification",
    ),
    ("Why it opens again", "Pourquoi il rouvre"),
    (
        "The day it closed, YYYY-MM-DD (default: none given; the exports then show the day the closing was signed)",
        "Le jour de la fermeture, AAAA-MM-JJ (par défaut : aucun ; les exports donnent alors le jour où la fermeture a été signée)",
    ),
    (
        "Without the Parquet files: by default every file but lieux.csv is also written as Parquet beside the CSV (venues.parquet, vouchers.parquet, referrals.parquet, stats.parquet, indicators.parquet; the events one file per month, events/month=YYYY-MM/part-0.parquet), with typed columns (numbers, booleans, dates; codes stay text), for DuckDB, pandas or R",
        "Sans les fichiers Parquet : par défaut, chaque fichier sauf lieux.csv est aussi écrit en Parquet à côté du CSV (venues.parquet, vouchers.parquet, referrals.parquet, stats.parquet, indicators.parquet ; les événements un fichier par mois, events/month=AAAA-MM/part-0.parquet), colonnes typées (nombres, booléens, dates ; les codes restent du texte), pour DuckDB, pandas ou R",
    ),
    (
        "Events each hub may still sign under the current version (its next seq as this node sees it, plus this many, is where it switches)",
        "Événements que chaque hub peut encore signer dans la version actuelle (sa prochaine position vue de ce nœud, plus ce nombre, est celle où il bascule)",
    ),
    (
        "Print this message or the help of the given subcommand(s)",
        "Afficher ce message ou l'aide des commandes données",
    ),
    (
        "After a hub's feed forked (a restored backup signed again): the recovery amendment this node's store supports — the branch it holds past the fork — as a command to run with the successor key of the restored hub (README, \"A hub restored from a backup\")",
        "Après la bifurcation du flux d'un hub (une sauvegarde restaurée qui a signé de nouveau) : l'amendement de reprise que le stockage de ce nœud permet — la branche qu'il détient après la bifurcation — sous forme de commande à lancer avec la clé successeure du hub restauré (README, « A hub restored from a backup »)",
    ),
    (
        "The member whose feed forked (its key, or part of its name)",
        "Le membre dont le flux a bifurqué (sa clé, ou une partie de son nom)",
    ),
    (
        "Endorse a proposal (an id prefix from `federation show`)",
        "Approuver une proposition (un préfixe d'identifiant donné par `federation show`)",
    ),
    (
        "The proposal's event id, or a prefix of at least 4 hex digits",
        "L'identifiant d'événement de la proposition, ou un préfixe d'au moins 4 chiffres hexadécimaux",
    ),
    (
        "Print this node's public key (its HubId)",
        "Afficher la clé publique de ce nœud (son HubId)",
    ),
    (
        "Rotate this node's key: `key new` draws the next key, the federation endorses its succession (`federation propose … succeed --successor KEY`), then `key rotate` (node stopped) makes it the node's key",
        "Changer la clé de ce nœud : `key new` tire la clé suivante, la fédération approuve sa succession (`federation propose … succeed --successor CLÉ`), puis `key rotate` (nœud arrêté) en fait la clé du nœud",
    ),
    (
        "Draw the node's next key (kept in node.key.next, mode 0600) and print its public key, to propose as this member's successor",
        "Tirer la prochaine clé du nœud (gardée dans node.key.next, mode 0600) et afficher sa clé publique, à proposer comme successeure de ce membre",
    ),
    (
        "Make the next key the node's key (the node must be stopped): only once the succession naming it is in effect in this node's views. The old key is kept as node.key.old",
        "Faire de la clé suivante la clé du nœud (le nœud doit être arrêté) : seulement une fois que la succession qui la nomme est en vigueur dans les vues de ce nœud. L'ancienne clé est gardée dans node.key.old",
    ),
    (
        "The venue map: import the national standard, list, search, export",
        "La carte des lieux : importer le standard national, lister, chercher, exporter",
    ),
    (
        "Import a venue file of the national standard (CSV v1, CSV v0.1.1, JSON) into this hub's log. Rows outside the hub's territories or with an invalid required field are rejected and reported; invalid optional fields are dropped with a warning",
        "Importer un fichier de lieux du standard national (CSV v1, CSV v0.1.1, JSON) dans le journal de ce hub. Les lignes hors des territoires du hub ou dont un champ obligatoire est invalide sont rejetées et signalées ; les champs facultatifs invalides sont écartés avec un avertissement",
    ),
    (
        "Import a venue file of the national standard (CSV v1, CSV v0.1.1, JSON) into this hub's log. Rows outside the hub's territories or with an invalid required field are rejected and reported; invalid optional fields are dropped with a warning.\n\nAn export whose columns are not the standard's is read with an import mapping (--mapping): a TOML file that renames its columns, translates its values and assembles its opening hours.",
        "Importer un fichier de lieux du standard national (CSV v1, CSV v0.1.1, JSON) dans le journal de ce hub. Les lignes hors des territoires du hub ou dont un champ obligatoire est invalide sont rejetées et signalées ; les champs facultatifs invalides sont écartés avec un avertissement.\n\nUn export dont les colonnes ne sont pas celles du standard se lit avec une correspondance d'import (--mapping) : un fichier TOML qui renomme ses colonnes, traduit ses valeurs et assemble ses horaires.",
    ),
    (
        "Read the file with this import mapping: the path of a TOML file (64 KiB at most), or the name of a shipped mapping (mednum-bfc, france-services; see `maillage venues mappings`)",
        "Lire le fichier avec cette correspondance d'import : le chemin d'un fichier TOML (64 Kio au plus), ou le nom d'une correspondance livrée (mednum-bfc, france-services ; voir `maillage venues mappings`)",
    ),
    (
        "List the import mappings shipped with maillage, or show one of them (to write one's own from it)",
        "Lister les correspondances d'import livrées avec maillage, ou afficher l'une d'elles (pour écrire la sienne à partir d'elle)",
    ),
    (
        "The name of a shipped mapping: its TOML file is shown",
        "Le nom d'une correspondance livrée : son fichier TOML est affiché",
    ),
    ("The file to import", "Le fichier à importer"),
    (
        "Input format (auto-detected by default)",
        "Format du fichier (détecté automatiquement par défaut)",
    ),
    ("Detect from the content", "Détecter d'après le contenu"),
    (
        "CSV, standard v1 (`|` between values)",
        "CSV, standard v1 (`|` entre les valeurs)",
    ),
    (
        "CSV, standard v0.1.1 (`;` between values)",
        "CSV, standard v0.1.1 (`;` entre les valeurs)",
    ),
    (
        "JSON array of records with the standard's field names",
        "Tableau JSON d'enregistrements avec les noms de champs du standard",
    ),
    (
        "The MedNum BFC hub's own CSV layout (the shipped mapping mednum-bfc)",
        "Le format CSV propre au hub MedNum BFC (la correspondance livrée mednum-bfc)",
    ),
    (
        "Write every rejected row and warning to this CSV file",
        "Écrire chaque ligne rejetée et chaque avertissement dans ce fichier CSV",
    ),
    (
        "Validate and report, append nothing",
        "Valider et rendre compte, sans rien ajouter au journal",
    ),
    (
        "Machine-readable summary",
        "Résumé lisible par une machine (JSON)",
    ),
    (
        "List venues (all hubs' venues this node holds)",
        "Lister les lieux (les lieux de tous les hubs que ce nœud détient)",
    ),
    (
        "Only this département (INSEE code, e.g. 13 or 2A)",
        "Seulement ce département (code INSEE, par ex. 13 ou 2A)",
    ),
    ("At most this many", "Au plus ce nombre"),
    ("Include closed venues", "Inclure les lieux fermés"),
    (
        "Show one venue by its venue id (v…) or its source id",
        "Afficher un lieu par son identifiant de lieu (v…) ou son identifiant source",
    ),
    (
        "Venue id or source id",
        "Identifiant de lieu ou identifiant source",
    ),
    (
        "Search venues by words in the name, town or address, with optional filters",
        "Chercher des lieux par des mots du nom, de la commune ou de l'adresse, avec des filtres facultatifs",
    ),
    (
        "Words to look for (all must match, accents and case ignored)",
        "Les mots à chercher (tous doivent correspondre, sans tenir compte des accents ni de la casse)",
    ),
    ("Only this département", "Seulement ce département"),
    (
        "Only venues offering this service (v1 label, or a unique part of one)",
        "Seulement les lieux proposant ce service (libellé v1, ou une partie d'un seul libellé)",
    ),
    (
        "Only venues addressing this public or specific support (v1 label, e.g. Seniors, Surdité)",
        "Seulement les lieux s'adressant à ce public ou proposant cet accompagnement spécifique (libellé v1, par ex. Seniors, Surdité)",
    ),
    (
        "Only venues qualified for vouchers today",
        "Seulement les lieux qualifiés pour les pass aujourd'hui",
    ),
    (
        "Only venues within --within-km of this point, nearest first (\"LAT,LON\" in degrees)",
        "Seulement les lieux à moins de --within-km de ce point, les plus proches d'abord (\"LAT,LON\" en degrés)",
    ),
    ("Radius for --near", "Rayon pour --near, en kilomètres"),
    (
        "Change one of this hub's venues without re-importing a file: its identifier (SIRET, RNA or RIDET), opening hours, services, e-mail, phone (VenueUpdated)",
        "Modifier un lieu de ce hub sans réimporter de fichier : son identifiant (SIRET, RNA ou RIDET), ses horaires, ses services, son courriel, son téléphone (VenueUpdated)",
    ),
    (
        "Venue id (v…) or source id",
        "Identifiant de lieu (v…) ou identifiant source",
    ),
    (
        "SIRET of the establishment (14 digits; Luhn checksum, or La Poste's digit-sum rule)",
        "SIRET de l'établissement (14 chiffres ; clé de Luhn, ou la règle de somme des chiffres de La Poste)",
    ),
    (
        "RNA number of the association (W followed by 9 digits)",
        "Numéro RNA de l'association (W suivi de 9 chiffres)",
    ),
    (
        "RIDET of a New Caledonia establishment (7 digits, then the 3-digit rank: 1234567.001)",
        "RIDET d'un établissement de Nouvelle-Calédonie (7 chiffres, puis le rang sur 3 chiffres : 1234567.001)",
    ),
    (
        "Opening hours, OpenStreetMap opening_hours syntax (\"Mo-Fr 09:00-12:00\"; \"\" for none)",
        "Horaires d'ouverture, syntaxe opening_hours d'OpenStreetMap (\"Mo-Fr 09:00-12:00\" ; \"\" pour aucun)",
    ),
    (
        "v1 services offered, separated by | (exact label, or an unambiguous part of one); replaces the list",
        "Services v1 proposés, séparés par | (libellé exact, ou une partie sans ambiguïté d'un libellé) ; remplace la liste",
    ),
    (
        "E-mail address (repeat for several; replaces the list; \"\" for none)",
        "Adresse électronique (à répéter pour plusieurs ; remplace la liste ; \"\" pour aucune)",
    ),
    (
        "Phone number (repeat for several; replaces the list; \"\" for none)",
        "Numéro de téléphone (à répéter pour plusieurs ; remplace la liste ; \"\" pour aucun)",
    ),
    (
        "Close one of this hub's venues (VenueClosed): it leaves the map, the exports keep it with its closing date",
        "Fermer un lieu de ce hub (VenueClosed) : il quitte la carte, les exports le gardent avec sa date de fermeture",
    ),
    ("Why it closes", "Pourquoi il ferme"),
    (
        "Qualify a venue of this hub for vouchers (after the in-situ check): VenueQualified",
        "Qualifier un lieu de ce hub pour les pass (après la vérification sur place) : VenueQualified",
    ),
    (
        "Last day of validity (YYYY-MM-DD)",
        "Dernier jour de validité (AAAA-MM-JJ)",
    ),
    (
        "v1 services it may redeem vouchers for (exact label, or an unambiguous part of it)",
        "Services v1 pour lesquels il peut encaisser des pass (libellé exact, ou une partie sans ambiguïté)",
    ),
    ("The scheme", "Le dispositif"),
    (
        "Revoke a venue's qualification: VenueQualificationRevoked",
        "Retirer la qualification d'un lieu : VenueQualificationRevoked",
    ),
    ("Why", "Pourquoi"),
    (
        "Export the open venues as a file of the national standard",
        "Exporter les lieux ouverts dans un fichier du standard national",
    ),
    ("Output format", "Format de sortie"),
    (
        "CSV of the national standard v1",
        "CSV du standard national v1",
    ),
    (
        "Output file (standard output if absent)",
        "Fichier de sortie (la sortie standard s'il est absent)",
    ),
    (
        "The signed log: verify every signature and chain, export a portable file",
        "Le journal signé : vérifier chaque signature et chaque chaîne, exporter un fichier portable",
    ),
    (
        "Re-verify every signature and every chain; report the first broken event precisely",
        "Revérifier chaque signature et chaque chaîne ; signaler précisément le premier événement cassé",
    ),
    (
        "Verify a portable log file (from `maillage log export`) instead of the data dir",
        "Vérifier un fichier de journal portable (issu de `maillage log export`) au lieu du répertoire de données",
    ),
    (
        "Write every feed to a portable file of signed events (with the charter), verifiable anywhere with `maillage log verify --file`",
        "Écrire tous les flux dans un fichier portable d'événements signés (avec la charte), vérifiable partout avec `maillage log verify --file`",
    ),
    ("Output file", "Fichier de sortie"),
    (
        "Repair a damaged data file (store/events.log) of a stopped node: keep every valid frame in order, drop the bytes that hold none (junk, a torn tail) and say which, keep the damaged file as events.log.before-repair, and rebuild the index at the next start. Events whose frames are gone are not invented: the node cuts each feed to its verified prefix and fetches the rest from its peers",
        "Réparer le fichier de données abîmé (store/events.log) d'un nœud arrêté : garder dans l'ordre chaque trame valide, écarter les octets qui n'en contiennent aucune (débris, fin déchirée) en disant lesquels, garder le fichier abîmé sous events.log.before-repair, et reconstruire l'index au prochain démarrage. Les événements dont les trames ont disparu ne sont pas inventés : le nœud coupe chaque flux à son préfixe vérifié et va chercher la suite chez ses pairs",
    ),
    (
        "Import a portable log file (from another hub's `maillage log export`): a real transport for air-gapped hubs (USB stick, e-mail). The file is verified first (every signature, chain and the file digest); then every event is stored in feed order. Reports stored / duplicate / gap / fork counts; events of this node's own feed are refused unless identical to what it holds",
        "Importer un fichier de journal portable (issu de `maillage log export` d'un autre hub) : un vrai moyen de transport pour les hubs sans réseau (clé USB, courriel). Le fichier est d'abord vérifié (chaque signature, chaque chaîne et l'empreinte du fichier) ; puis chaque événement est stocké dans l'ordre de son flux. Rend compte des nombres d'événements stockés / en double / avec un trou / en bifurcation ; les événements du propre flux de ce nœud sont refusés s'ils diffèrent de ce qu'il détient",
    ),
    ("The file", "Le fichier"),
    (
        "Benchmarks, reported as ratios against the raw primitives measured in the same run",
        "Mesures de performance, données en rapport aux primitives brutes mesurées pendant la même exécution",
    ),
    (
        "Fold a generated history of 15 hubs into the views: events/s on one core, memory, time to reopen a node holding them and answer a first query, parcours latency",
        "Replier un historique généré de 15 hubs dans les vues : événements/s sur un cœur, mémoire, temps pour rouvrir un nœud qui les détient et répondre à une première requête, latence d'un parcours",
    ),
    (
        "Events in the generated history",
        "Événements dans l'historique généré",
    ),
    (
        "In-memory fold repetitions (median reported)",
        "Répétitions du repli en mémoire (la médiane est donnée)",
    ),
    ("Workload seed", "Graine de la charge"),
    (
        "Hubs in the workload: 15 (the regional hubs) or 2 to 101 territorial hubs (the départements dealt in turn)",
        "Hubs de la charge : 15 (les hubs régionaux) ou de 2 à 101 hubs territoriaux (les départements distribués à tour de rôle)",
    ),
    (
        "Own appends vs bare sign/s, peer ingest vs bare verify_strict/s, disk vs payload bytes",
        "Ajouts propres face à la signature brute (par s), ingestion des pairs face à verify_strict brut (par s), octets sur disque face aux octets utiles",
    ),
    ("Events per measurement", "Événements par mesure"),
    (
        "The signature rule's verdicts compared three ways (single, reference, batch) on generated honest and adversarial signatures, then each path's speed against bare verify_strict on one core and on every core",
        "Les verdicts de la règle de signature comparés de trois façons (unitaire, référence, lot) sur des signatures générées, honnêtes et malveillantes, puis la vitesse de chaque chemin face à verify_strict brut sur un cœur et sur tous les cœurs",
    ),
    (
        "Signatures whose verdicts are compared",
        "Signatures dont les verdicts sont comparés",
    ),
    (
        "A long history generated straight into a hub's store (never held in memory), then the hub and a fresh observer as real daemons: first open of the hub, its reopen after a clean stop and after a crash, the observer's catch-up over loopback gRPC, peak memory of each process, size on disk, read latency",
        "Un long historique généré directement dans le stockage d'un hub (jamais tenu en mémoire), puis le hub et un nouvel observateur en vrais démons : première ouverture du hub, sa réouverture après un arrêt propre et après un plantage, rattrapage de l'observateur en gRPC local, mémoire de pointe de chaque processus, taille sur disque, latence de lecture",
    ),
    (
        "Days the history spans, ending on 2026-09-21 (0: minutes, as signed in one go); over 730, personal parts pass retention as the history is folded",
        "Jours que couvre l'historique, jusqu'au 2026-09-21 (0 : quelques minutes, comme signé d'un trait) ; au-delà de 730, des parties personnelles passent la durée de conservation pendant le repli",
    ),
    (
        "Keep the data dirs in this directory (default: a temporary one, removed)",
        "Garder les répertoires de données dans ce répertoire (par défaut : un répertoire temporaire, supprimé)",
    ),
    (
        "Signatures per batch (one key each, as a slice of one feed's events)",
        "Signatures par lot (une clé chacun, comme une tranche des événements d'un flux)",
    ),
    ("Corpus seed", "Graine du corpus"),
    (
        "Runs (medians are reported)",
        "Exécutions (les médianes sont données)",
    ),
    (
        "Events per durable batch (one file sync and one index flush each)",
        "Événements par lot durable (une synchronisation de fichier et un vidage d'index chacun)",
    ),
    (
        "A fresh observer catches up a generated history (15 feeds) from a hub over loopback gRPC, end to end (receive, verify, store, fold), against bare verify_strict on every core in the same run; bytes on the wire per event; latency of the owner-side transfer call between two real nodes",
        "Un nouvel observateur rattrape un historique généré (15 flux) depuis un hub en gRPC local, de bout en bout (réception, vérification, stockage, repli), face à verify_strict brut sur tous les cœurs pendant la même exécution ; octets transmis par événement ; latence de l'appel de transfert côté propriétaire entre deux vrais nœuds",
    ),
    (
        "Catch-ups measured (the median is reported)",
        "Rattrapages mesurés (la médiane est donnée)",
    ),
    ("Transfer calls timed", "Appels de transfert chronométrés"),
    (
        "People: draw a pseudonymous carnet code, or forget a person (right to erasure)",
        "Personnes : tirer un code de carnet pseudonyme, ou oublier une personne (droit à l'effacement)",
    ),
    (
        "Draw a new pseudonymous person code to print on the carnet. Nothing is written: a person exists only through the events that mention them",
        "Tirer un nouveau code de personne pseudonyme à inscrire sur le carnet. Rien n'est écrit : une personne n'existe qu'à travers les événements qui la mentionnent",
    ),
    (
        "Right to erasure: every node drops the person's parcours (PersonForgotten)",
        "Droit à l'effacement : chaque nœud efface le parcours de la personne (PersonForgotten)",
    ),
    (
        "The person code (from the carnet)",
        "Le code de la personne (celui du carnet)",
    ),
    (
        "Vouchers (Pass numérique): issue, hand out, redeem, transfer, claim, settle, status",
        "Pass numériques : émettre, remettre, encaisser, transférer, réclamer, régler, état",
    ),
    (
        "Issue a batch of vouchers bought by a funder (serials BATCH-1 … BATCH-N)",
        "Émettre un lot de pass acheté par un financeur (numéros LOT-1 … LOT-N)",
    ),
    (
        "Batch id: one of this hub's départements, a dash, then letters, digits, dashes",
        "Identifiant du lot : un des départements de ce hub, un tiret, puis des lettres, des chiffres, des tirets",
    ),
    ("Funder name", "Nom du financeur"),
    (
        "Funder SIRET (14 digits)",
        "SIRET du financeur (14 chiffres)",
    ),
    ("Vouchers in the batch", "Nombre de pass du lot"),
    (
        "Face value of one voucher, in cents",
        "Valeur faciale d'un pass, en centimes",
    ),
    ("First valid day", "Premier jour de validité"),
    (
        "Last day to hand out and use",
        "Dernier jour pour remettre et utiliser",
    ),
    (
        "Last day to redeem (tolerance)",
        "Dernier jour pour encaisser (tolérance)",
    ),
    (
        "Eligible v1 services (default: any)",
        "Services v1 éligibles (par défaut : tous)",
    ),
    (
        "Départements where they may be redeemed (default: any)",
        "Départements où ils peuvent être encaissés (par défaut : tous)",
    ),
    (
        "Hand vouchers (a carnet) to a person",
        "Remettre des pass (un carnet) à une personne",
    ),
    ("Serials", "Numéros de pass"),
    (
        "A range of a batch: BATCH:FIRST-LAST (e.g. 13-2026-CAF-01:1-5)",
        "Une plage d'un lot : LOT:PREMIER-DERNIER (par ex. 13-2026-CAF-01:1-5)",
    ),
    (
        "Prescriber kind (CAF, FT, CCAS, MUNI, DEPT, ML, LA_POSTE, RFS, ASSO, SPIP, AUTRE)",
        "Type de prescripteur (CAF, FT, CCAS, MUNI, DEPT, ML, LA_POSTE, RFS, ASSO, SPIP, AUTRE)",
    ),
    (
        "The desk's name (never a person's)",
        "Le nom du guichet (jamais celui d'une personne)",
    ),
    (
        "The referral it goes with",
        "L'orientation qui les accompagne",
    ),
    ("Day (default: today)", "Jour (par défaut : aujourd'hui)"),
    (
        "Redeem a voucher this hub owns at one of its qualified venues (or accept a claim)",
        "Encaisser un pass que ce hub possède dans un de ses lieux qualifiés (ou accepter une réclamation)",
    ),
    ("The serial", "Le numéro du pass"),
    (
        "v1 service (exact label, or an unambiguous part of it)",
        "Service v1 (libellé exact, ou une partie sans ambiguïté)",
    ),
    (
        "Day of the redemption (default: today)",
        "Jour de l'encaissement (par défaut : aujourd'hui)",
    ),
    (
        "The claim this redemption answers (event id, or a unique prefix of it)",
        "La réclamation à laquelle cet encaissement répond (identifiant d'événement, ou un préfixe sans ambiguïté)",
    ),
    (
        "Transfer vouchers to another hub (key hex or unique part of its name)",
        "Transférer des pass à un autre hub (clé en hexadécimal ou partie sans ambiguïté de son nom)",
    ),
    ("The receiving hub", "Le hub qui les reçoit"),
    (
        "Claim a voucher another hub owns, accepted at one of this hub's venues while the owner was unreachable; the owner answers with `voucher answer`",
        "Réclamer un pass qu'un autre hub possède, accepté dans un lieu de ce hub pendant que le propriétaire était injoignable ; le propriétaire répond avec `voucher answer`",
    ),
    ("v1 service", "Service v1"),
    (
        "Answer a claim on a voucher this hub owns: accept (redeem it as claimed) or reject",
        "Répondre à une réclamation sur un pass que ce hub possède : accepter (l'encaisser comme réclamé) ou rejeter",
    ),
    (
        "The claim's event id (or a unique prefix of it)",
        "L'identifiant d'événement de la réclamation (ou un préfixe sans ambiguïté)",
    ),
    (
        "Accept: redeem the voucher with the claim's venue, service and date",
        "Accepter : encaisser le pass avec le lieu, le service et la date de la réclamation",
    ),
    ("Reject, with this reason", "Rejeter, pour ce motif"),
    (
        "Withdraw vouchers this hub owns",
        "Annuler des pass que ce hub possède",
    ),
    (
        "Record the payment to a venue of redeemed vouchers this hub issued (amount = face values)",
        "Enregistrer le paiement à un lieu de pass encaissés que ce hub a émis (montant = valeurs faciales)",
    ),
    ("Month paid for (YYYY-MM)", "Mois payé (AAAA-MM)"),
    (
        "A voucher's state, or counts by status for a batch",
        "L'état d'un pass, ou les nombres par état pour un lot",
    ),
    ("A batch id", "Un identifiant de lot"),
    (
        "Day to evaluate expiry at (default: today)",
        "Jour auquel évaluer l'expiration (par défaut : aujourd'hui)",
    ),
    (
        "Referrals (orientations): open, accept, decline, forward, close, show",
        "Orientations : ouvrir, accepter, refuser, réorienter, clore, afficher",
    ),
    (
        "Refer a person to a venue or to a service in a département",
        "Orienter une personne vers un lieu ou vers un service dans un département",
    ),
    ("Needs (v1 services)", "Besoins (services v1)"),
    (
        "Target venue (v… or source id)",
        "Lieu visé (v… ou identifiant source)",
    ),
    (
        "Target département (the need is served by its hub)",
        "Département visé (le besoin est servi par son hub)",
    ),
    (
        "Diagnostic (e.g. \"ABC Diag: débutant\")",
        "Diagnostic (par ex. \"ABC Diag: débutant\")",
    ),
    (
        "Channel (telephone, mail, plateforme…)",
        "Canal (téléphone, courriel, plateforme…)",
    ),
    (
        "Referral id (default: \"<département>-<YYYYMMDD>-<6 random characters>\")",
        "Identifiant de l'orientation (par défaut : \"<département>-<AAAAMMJJ>-<6 caractères au hasard>\")",
    ),
    (
        "Opening day (default: today)",
        "Jour d'ouverture (par défaut : aujourd'hui)",
    ),
    (
        "Expiry day (default: 30 days after opening)",
        "Jour d'expiration (par défaut : 30 jours après l'ouverture)",
    ),
    (
        "Accept a referral this hub handles, at one of its venues",
        "Accepter une orientation que ce hub traite, dans un de ses lieux",
    ),
    ("Referral id", "Identifiant de l'orientation"),
    ("Appointment day", "Jour du rendez-vous"),
    (
        "Day of acceptance (default: today)",
        "Jour de l'acceptation (par défaut : aujourd'hui)",
    ),
    (
        "Decline a referral this hub handles",
        "Refuser une orientation que ce hub traite",
    ),
    (
        "Forward a referral to another venue (possibly another hub's)",
        "Réorienter vers un autre lieu (éventuellement d'un autre hub)",
    ),
    (
        "Close a referral with its outcome",
        "Clore une orientation avec son issue",
    ),
    ("Outcome", "Issue"),
    ("The accompaniment took place", "L'accompagnement a eu lieu"),
    ("The person did not come", "La personne n'est pas venue"),
    ("Stopped before the end", "Arrêté avant la fin"),
    (
        "The person's autonomy at the end",
        "L'autonomie de la personne à la fin",
    ),
    ("Autonomous", "Autonome"),
    ("Partially autonomous", "Partiellement autonome"),
    ("Not autonomous", "Non autonome"),
    (
        "A referral's state (open referrals past their expiry are shown as expired)",
        "L'état d'une orientation (une orientation ouverte après son expiration apparaît expirée)",
    ),
    (
        "Accompaniments recorded by venues",
        "Accompagnements enregistrés par les lieux",
    ),
    (
        "Record an accompaniment at one of this hub's venues",
        "Enregistrer un accompagnement dans un lieu de ce hub",
    ),
    ("The person code", "Le code de la personne"),
    ("v1 services", "Services v1"),
    ("Day", "Jour"),
    ("Minutes", "Minutes"),
    (
        "individual | collective | remote",
        "individual (individuel) | collective (collectif) | remote (à distance)",
    ),
    ("One person", "Une personne"),
    ("A group", "Un groupe"),
    ("At a distance", "À distance"),
    (
        "The referral it answers",
        "L'orientation à laquelle il répond",
    ),
    ("Vouchers used", "Pass utilisés"),
    (
        "A person's parcours across all hubs, then their referrals, vouchers and venues",
        "Le parcours d'une personne dans tous les hubs, puis ses orientations, ses pass et ses lieux",
    ),
    (
        "National figures: vouchers by hub and funder, referral outcomes, qualified venues",
        "Chiffres nationaux : pass par hub et financeur, issues des orientations, lieux qualifiés",
    ),
    (
        "Day the figures are computed for (default: today)",
        "Jour pour lequel les chiffres sont calculés (par défaut : aujourd'hui)",
    ),
    (
        "Write the views as CSV and Parquet files for analysts, described in datapackage.json: lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, stats.csv, indicators.csv",
        "Écrire les vues en fichiers CSV et Parquet pour les analystes, décrits dans datapackage.json : lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, stats.csv, indicators.csv",
    ),
    (
        "Write the views as CSV and Parquet files for analysts, described in datapackage.json: lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, stats.csv, indicators.csv.\n\nlieux.csv holds the open venues in the national standard v1 (as `venues export`); venues.csv every venue, closed ones included (status, closed_on, closing_reason), by the venue id the other files name, with the source id (lieux.csv's id), name, commune, codes (quoted), pivot and qualification; vouchers.csv one row per voucher of every batch, with its status on the --as-of day (issued, handed_out, redeemed, cancelled, expired) and its hand-out day; referrals.csv one row per referral, with its status on that day (open, expired after its 30 days, accepted, declined, or its outcome); events.csv one row per applied event, by clock (signed_on, event_date, hub, kind, and the venue, batch, voucher and referral it names); stats.csv the figures of `maillage stats`, one value a row (as_of,section,hub,hub_key,funder,departement,metric,value); indicators.csv its national indicators, one value a row (as_of,indicator,quarter, funder,prescriber_kind,from_hub,to_hub,metric,value).\n\nUTF-8, comma-separated, one header row, rows in id order (vouchers by batch, then number; events by clock): nodes holding the same events write the same bytes for the same day. With --excel: a byte-order mark and `;` between values, for a double-click in a French spreadsheet. No person code is written, so the files can be shared. Files already in DIR are left untouched unless --force; the files appear only once all of them are complete.\n\nBeside the CSV files: the same tables in Parquet, typed (all but lieux.csv; events.csv one file per month, events/month=YYYY-MM/part-0.parquet, for DuckDB's hive_partitioning; --no-parquet leaves them out), and datapackage.json, every file written described as a Frictionless Data Package (columns, types, descriptions in French, keys and the joins between files).\n\nExample: maillage export --out export-2026-03 --as-of 2026-03-31",
        "Écrire les vues en fichiers CSV et Parquet pour les analystes, décrits dans datapackage.json : lieux.csv, venues.csv, vouchers.csv, referrals.csv, events.csv, stats.csv, indicators.csv.\n\nlieux.csv contient les lieux ouverts au standard national v1 (comme `venues export`) ; venues.csv tous les lieux, fermés compris (status, closed_on, closing_reason), par l'identifiant de lieu que nomment les autres fichiers, avec l'identifiant source (l'id de lieux.csv), le nom, la commune, les codes (entre guillemets), le pivot et la qualification ; vouchers.csv une ligne par pass de chaque lot, avec son état au jour --as-of (issued, handed_out, redeemed, cancelled, expired) et son jour de remise ; referrals.csv une ligne par orientation, avec son état ce jour-là (open, expired après ses 30 jours, accepted, declined, ou son issue) ; events.csv une ligne par événement appliqué, dans l'ordre des horloges (signed_on, event_date, hub, kind, et le lieu, le lot, le pass et l'orientation qu'il nomme) ; stats.csv les chiffres de `maillage stats`, une valeur par ligne (as_of,section,hub,hub_key,funder,departement,metric,value) ; indicators.csv ses indicateurs nationaux, une valeur par ligne (as_of,indicator,quarter,funder,prescriber_kind,from_hub,to_hub,metric,value).\n\nUTF-8, séparés par des virgules, une ligne d'en-tête, lignes dans l'ordre des identifiants (les pass par lot puis par numéro ; les événements par horloge) : des nœuds qui détiennent les mêmes événements écrivent les mêmes octets pour le même jour. Avec --excel : une marque d'ordre des octets et `;` entre les valeurs, pour un double-clic dans un tableur français. Aucun code de personne n'est écrit : les fichiers peuvent être partagés. Les fichiers déjà présents dans RÉP ne sont pas touchés sans --force ; les fichiers n'apparaissent qu'une fois tous complets.\n\nÀ côté des fichiers CSV : les mêmes tables en Parquet, typées (toutes sauf lieux.csv ; events.csv un fichier par mois, events/month=AAAA-MM/part-0.parquet, pour le hive_partitioning de DuckDB ; --no-parquet les omet), et datapackage.json, qui décrit chaque fichier écrit en Frictionless Data Package (colonnes, types, descriptions en français, clés et jointures entre fichiers).\n\nExemple : maillage export --out export-2026-03 --as-of 2026-03-31",
    ),
    (
        "Directory to write the files into (created if missing)",
        "Répertoire où écrire les fichiers (créé s'il manque)",
    ),
    (
        "Day the statuses and figures are computed for, YYYY-MM-DD (default: today, as for `maillage stats`)",
        "Jour pour lequel les états et les chiffres sont calculés, AAAA-MM-JJ (par défaut : aujourd'hui, comme pour `maillage stats`)",
    ),
    (
        "Write only these files (comma-separated; default: all of them)",
        "N'écrire que ces fichiers (séparés par des virgules ; par défaut : tous)",
    ),
    (
        "lieux.csv: open venues, national standard v1",
        "lieux.csv : lieux ouverts, standard national v1",
    ),
    (
        "venues.csv: every venue by its venue id (the id the other files name), closed ones included with their closing day",
        "venues.csv : tous les lieux par leur identifiant de lieu (celui que nomment les autres fichiers), fermés compris avec leur jour de fermeture",
    ),
    (
        "vouchers.csv: one row per voucher",
        "vouchers.csv : une ligne par pass",
    ),
    (
        "referrals.csv: one row per referral",
        "referrals.csv : une ligne par orientation",
    ),
    (
        "events.csv: one row per applied event, by clock (no person code)",
        "events.csv : une ligne par événement appliqué, dans l'ordre des horloges (aucun code de personne)",
    ),
    (
        "stats.csv: the national figures, one value a row",
        "stats.csv : les chiffres nationaux, une valeur par ligne",
    ),
    (
        "indicators.csv: the national indicators (trends, funders, prescribers, delays, flows, liability), one value a row",
        "indicators.csv : les indicateurs nationaux (tendances, financeurs, prescripteurs, délais, flux, engagements), une valeur par ligne",
    ),
    (
        "Replace files of the same names already in DIR (by default the export refuses and writes nothing)",
        "Remplacer les fichiers de mêmes noms déjà présents dans RÉP (par défaut l'export refuse et n'écrit rien)",
    ),
    (
        "For a double-click in a French spreadsheet (Excel): UTF-8 with a byte-order mark and `;` between values, every file (lieux.csv included, no longer the standard's bytes)",
        "Pour un double-clic dans un tableur français (Excel) : UTF-8 avec une marque d'ordre des octets et `;` entre les valeurs, pour chaque fichier (lieux.csv compris, qui n'a alors plus les octets du standard)",
    ),
    (
        "The digest of every folded view (equal on nodes holding the same events) and the events applied per feed",
        "L'empreinte de chaque vue repliée (égale sur les nœuds qui détiennent les mêmes événements) et les événements appliqués par flux",
    ),
    (
        "Copy this data dir into DIR (new or empty), whether a node serves it or not: the key, the charter, node.toml and the event store as it is now (the index and the views are rebuilt from it). Restored, the copy knows it is a backup: it signs nothing until a peer has told it how far this hub's feed goes, so that restoring last night's copy can never make the hub sign a position of its feed twice",
        "Copier ce répertoire de données dans RÉP (nouveau ou vide), qu'un nœud le serve ou non : la clé, la charte, node.toml et le stockage des événements tel qu'il est (l'index et les vues en sont reconstruits). Restaurée, la copie sait qu'elle est une sauvegarde : elle ne signe rien tant qu'un pair ne lui a pas dit jusqu'où va le flux de ce hub, pour que restaurer la copie de la veille ne puisse jamais faire signer deux fois au hub une même position de son flux",
    ),
    (
        "Copy this data dir into DIR (new or empty), whether a node serves it or not: the key, the charter, node.toml and the event store as it is now (the index and the views are rebuilt from it). Restored, the copy knows it is a backup: it signs nothing until a peer has told it how far this hub's feed goes, so that restoring last night's copy can never make the hub sign a position of its feed twice.\n\nExample: maillage backup /var/backups/maillage/2026-03-31",
        "Copier ce répertoire de données dans RÉP (nouveau ou vide), qu'un nœud le serve ou non : la clé, la charte, node.toml et le stockage des événements tel qu'il est (l'index et les vues en sont reconstruits). Restaurée, la copie sait qu'elle est une sauvegarde : elle ne signe rien tant qu'un pair ne lui a pas dit jusqu'où va le flux de ce hub, pour que restaurer la copie de la veille ne puisse jamais faire signer deux fois au hub une même position de son flux.\n\nExemple : maillage backup /var/backups/maillage/2026-03-31",
    ),
    (
        "Where to write the copy (created; must be empty if it exists)",
        "Où écrire la copie (créé ; doit être vide s'il existe)",
    ),
    (
        "Events kept in the log without effect because they broke a domain rule",
        "Les événements gardés dans le journal sans effet parce qu'ils enfreignaient une règle métier",
    ),
    (
        "Run the node: serve peers and clients, pull from the configured peers, follow them live, fold everything into the views",
        "Faire tourner le nœud : servir les pairs et les clients, tirer les événements des pairs configurés, les suivre en direct, tout replier dans les vues",
    ),
    (
        "Run the node: serve peers and clients, pull from the configured peers, follow them live, fold everything into the views.\n\nConfigured in node.toml's [serve] section (listen, [[serve.peers]] address/key, tls); the flags below override it. Stops cleanly on SIGINT/SIGTERM. While it runs, the other commands on this data dir are sent to it (its address is in serve.addr), so the CLI and the daemon never write at the same time. Observers run it too, as read replicas.",
        "Faire tourner le nœud : servir les pairs et les clients, tirer les événements des pairs configurés, les suivre en direct, tout replier dans les vues.\n\nConfiguré dans la section [serve] de node.toml (listen, [[serve.peers]] address/key, tls) ; les options ci-dessous l'emportent. S'arrête proprement sur SIGINT/SIGTERM. Pendant qu'il tourne, les autres commandes sur ce répertoire de données lui sont envoyées (son adresse est dans serve.addr), de sorte que la ligne de commande et le démon n'écrivent jamais en même temps. Les observateurs le font tourner aussi, comme répliques en lecture.",
    ),
    (
        "Address to listen on, e.g. 127.0.0.1:7300 or 0.0.0.0:7300 (port 0: any free port)",
        "Adresse d'écoute, par ex. 127.0.0.1:7300 ou 0.0.0.0:7300 (port 0 : n'importe quel port libre)",
    ),
    (
        "A peer to pull from (repeatable): http://host:port, or host:port. Adds to node.toml's",
        "Un pair d'où tirer les événements (répétable) : http://hôte:port, ou hôte:port. S'ajoute à ceux de node.toml",
    ),
    (
        "Do not answer claims on this hub's vouchers automatically",
        "Ne pas répondre automatiquement aux réclamations sur les pass de ce hub",
    ),
    (
        "TLS certificate (PEM) for the listener; needs --tls-key",
        "Certificat TLS (PEM) de l'écoute ; demande --tls-key",
    ),
    (
        "TLS private key (PEM) for the listener",
        "Clé privée TLS (PEM) de l'écoute",
    ),
    (
        "Where to serve the dashboard and Prometheus metrics (/metrics) over plain HTTP, e.g. 127.0.0.1:9464, or `off`. Default: node.toml's [serve] http, else 127.0.0.1:0 (loopback, any free port; the address is written to serve.addr and shown by `maillage status`)",
        "Où servir le tableau de bord et les métriques Prometheus (/metrics) en HTTP simple, par ex. 127.0.0.1:9464, ou `off`. Par défaut : le http de la section [serve] de node.toml, sinon 127.0.0.1:0 (boucle locale, n'importe quel port libre ; l'adresse est écrite dans serve.addr et affichée par `maillage status`)",
    ),
    (
        "Sign without first comparing this hub's feed with a peer's. By default a hub with peers signs nothing after it starts until a peer has told it how far its own feed goes and it holds that much: a node started from a backup would otherwise sign a position of its feed a second time (a fork, which freezes its feed everywhere). Logged",
        "Signer sans comparer d'abord le flux de ce hub avec celui d'un pair. Par défaut, un hub qui a des pairs ne signe rien après son démarrage tant qu'un pair ne lui a pas dit jusqu'où va son propre flux et qu'il n'en détient pas autant : un nœud démarré depuis une sauvegarde signerait sinon une seconde fois une position de son flux (une bifurcation, qui gèle son flux partout). Journalisé",
    ),
    (
        "Check this node's configuration without starting it: node.toml, key, charter, TLS files",
        "Vérifier la configuration de ce nœud sans le démarrer : node.toml, clé, charte, fichiers TLS",
    ),
    (
        "Check the data dir's node.toml as `maillage serve` would read it, and say precisely what is wrong: peers' addresses (http:// or https:// URLs with a host), their pinned keys (members of the charter), TLS settings consistent with each address and files that exist and load (the listener's certificate and key, which must match; peers' CA files), the listen and HTTP addresses, and node.key (present, a member of the charter)",
        "Vérifier le node.toml du répertoire de données comme `maillage serve` le lirait, et dire précisément ce qui ne va pas : les adresses des pairs (URL http:// ou https:// avec un hôte), leurs clés épinglées (membres de la charte), des réglages TLS cohérents avec chaque adresse et des fichiers qui existent et se chargent (le certificat et la clé de l'écoute, qui doivent aller ensemble ; les fichiers d'autorité de certification des pairs), les adresses d'écoute et HTTP, et node.key (présent, membre de la charte)",
    ),
    (
        "Check the data dir's node.toml as `maillage serve` would read it, and say precisely what is wrong: peers' addresses (http:// or https:// URLs with a host), their pinned keys (members of the charter), TLS settings consistent with each address and files that exist and load (the listener's certificate and key, which must match; peers' CA files), the listen and HTTP addresses, and node.key (present, a member of the charter).\n\nPrints one line per setting checked (ok, warning, error); exits with status 1 if any is an error. Safe while the node serves: it reads, and writes nothing.",
        "Vérifier le node.toml du répertoire de données comme `maillage serve` le lirait, et dire précisément ce qui ne va pas : les adresses des pairs (URL http:// ou https:// avec un hôte), leurs clés épinglées (membres de la charte), des réglages TLS cohérents avec chaque adresse et des fichiers qui existent et se chargent (le certificat et la clé de l'écoute, qui doivent aller ensemble ; les fichiers d'autorité de certification des pairs), les adresses d'écoute et HTTP, et node.key (présent, membre de la charte).\n\nAffiche une ligne par réglage vérifié (ok, attention, erreur) ; se termine avec le statut 1 s'il y a au moins une erreur. Sans risque pendant que le nœud sert : elle lit, et n'écrit rien.",
    ),
    (
        "Replication status: peers and their state, lag per feed, forks, rejections, digest. Needs a running `maillage serve` for peer information; without one, shows the store",
        "État de la réplication : les pairs et leur état, le retard par flux, les bifurcations, les rejets, l'empreinte. Demande un `maillage serve` en marche pour les informations sur les pairs ; sans lui, montre le stockage",
    ),
    (
        "Play a scenario on a simulated network of hubs (partitions, crashes, people moving), deterministically: `maillage simulate SCENARIO.toml --seed N` or `--seeds A..B`",
        "Jouer un scénario sur un réseau simulé de hubs (partitions, pannes, personnes qui déménagent), de façon déterministe : `maillage simulate SCENARIO.toml --seed N` ou `--seeds A..B`",
    ),
    (
        "Play a scenario on a simulated network of hubs (partitions, crashes, people moving), deterministically: `maillage simulate SCENARIO.toml --seed N` or `--seeds A..B`.\n\nRuns the `maillage-simulate` program installed next to this one (the simulator links a simulated network and clock that a production node does not carry): build it with `cargo build --release -p maillage-simulations`. Its options: `maillage simulate --help`.",
        "Jouer un scénario sur un réseau simulé de hubs (partitions, pannes, personnes qui déménagent), de façon déterministe : `maillage simulate SCENARIO.toml --seed N` ou `--seeds A..B`.\n\nLance le programme `maillage-simulate` installé à côté de celui-ci (le simulateur embarque un réseau et une horloge simulés qu'un nœud de production n'a pas) : construisez-le avec `cargo build --release -p maillage-simulations`. Ses options : `maillage simulate --help`.",
    ),
    (
        "The scenario and the simulator's options, passed on unchanged",
        "Le scénario et les options du simulateur, transmis tels quels",
    ),
];
