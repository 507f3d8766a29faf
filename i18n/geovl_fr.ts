<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>@default</name>
    <message>
        <location filename="../processing/base.py" line="127"/>
        <source>GeoVL needs Python packages that this QGIS cannot import: {}. Run `make setup deploy` in the GeoVL folder (it installs them and points the plugin at them), or set the QGIS setting geovl/site_packages to a site-packages folder that has them.</source>
        <translation>GeoVL a besoin de paquets Python que ce QGIS ne peut pas importer : {}. Lancez `make setup deploy` dans le dossier de GeoVL (cela les installe et y fait pointer l'extension), ou réglez le paramètre QGIS geovl/site_packages sur un dossier site-packages qui les contient.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="220"/>
        <source>Model (preset, hub id or local path)</source>
        <translation>Modèle (préréglage, identifiant du hub ou chemin local)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="222"/>
        <source>Device</source>
        <translation>Périphérique de calcul</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="223"/>
        <source>Precision</source>
        <translation>Précision numérique</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="227"/>
        <source>Extent (default: the whole raster)</source>
        <translation>Emprise (par défaut : tout le raster)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="229"/>
        <source>Bands (1 for grey, or red, green, blue)</source>
        <translation>Bandes (1 pour du gris, ou rouge, vert, bleu)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="232"/>
        <source>Tile size in pixels (0: the model&apos;s input)</source>
        <translation>Taille des tuiles en pixels (0 : l'entrée du modèle)</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="234"/>
        <source>Tile overlap in pixels</source>
        <translation>Recouvrement des tuiles en pixels</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="236"/>
        <source>Resolution in metres per pixel (0: the raster&apos;s own)</source>
        <translation>Résolution en mètres par pixel (0 : celle du raster)</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="44"/>
        <source>The raster layer &apos;{}&apos; has no coordinate reference system. Assign one (Layer Properties &gt; Source) and run again.</source>
        <translation>La couche raster « {} » n'a pas de système de coordonnées de référence. Attribuez-en un (Propriétés de la couche &gt; Source) puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="53"/>
        <source>The extent does not overlap the layer &apos;{}&apos;.</source>
        <translation>L'emprise ne recouvre pas la couche « {} ».</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="57"/>
        <source>Rendering layer &apos;{}&apos; over this extent at this resolution would make a {} x {} px raster, more than {} Mpx. Choose a smaller extent or a coarser resolution (RESOLUTION, metres per pixel).</source>
        <translation>Le rendu de la couche « {} » sur cette emprise à cette résolution donnerait un raster de {} x {} px, plus de {} Mpx. Choisissez une emprise plus petite ou une résolution plus grossière (RESOLUTION, mètres par pixel).</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="66"/>
        <source>Reusing the rendering of layer &apos;{}&apos; in {}.</source>
        <translation>Réutilisation du rendu de la couche « {} » dans {}.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="71"/>
        <source>Rendering layer &apos;{}&apos; to a {} x {} px GeoTIFF.</source>
        <translation>Rendu de la couche « {} » en un GeoTIFF de {} x {} px.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="139"/>
        <source>Layer &apos;{}&apos; has no native resolution (web map/tile layer): set the resolution (RESOLUTION, metres per pixel) to render it at.</source>
        <translation>La couche « {} » n'a pas de résolution propre (couche web ou de tuiles) : indiquez la résolution de rendu (RESOLUTION, mètres par pixel).</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="71"/>
        <source>the folder {} does not exist</source>
        <translation>le dossier {} n'existe pas</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="76"/>
        <source>GeoVL cannot write in {} ({})</source>
        <translation>GeoVL ne peut pas écrire dans {} ({})</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="68"/>
        <source>The cached rendering {} is damaged; rendering layer &apos;{}&apos; again.</source>
        <translation>Le rendu en cache {} est endommagé ; la couche « {} » est rendue à nouveau.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="76"/>
        <source>GeoVL cannot make the folder {} ({})</source>
        <translation>GeoVL ne peut pas créer le dossier {} ({})</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="78"/>
        <source>Cannot render layer &apos;{}&apos; into GeoVL&apos;s cache: {}. Set GEOVL_CACHE_DIR to a folder you can write to.</source>
        <translation>Impossible de rendre la couche « {} » dans le cache de GeoVL : {}. Faites pointer GEOVL_CACHE_DIR vers un dossier où vous pouvez écrire.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="102"/>
        <source>The run was cancelled; no output was written.</source>
        <translation>L'exécution a été annulée ; aucune sortie n'a été écrite.</translation>
    </message>
    <message>
        <location filename="../processing/render.py" line="103"/>
        <source>Rendering layer &apos;{}&apos; into {} failed (QGIS writer error {}). Is the disk full? Free some space, or set GEOVL_CACHE_DIR to a folder on another disk.</source>
        <translation>Le rendu de la couche « {} » dans {} a échoué (erreur {} de l'écriture QGIS). Le disque est-il plein ? Libérez de la place, ou faites pointer GEOVL_CACHE_DIR vers un dossier sur un autre disque.</translation>
    </message>
</context>
<context>
    <name>AskAlgorithm</name>
    <message>
        <location filename="../processing/ask.py" line="40"/>
        <source>Ask a grounded question</source>
        <translation>Poser une question localisée</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="43"/>
        <source>Asks a vision-language model a question about a raster layer (&quot;Where are the airplanes parked?&quot;, &quot;How many storage tanks are in this port?&quot;) and puts every object it names on the map.

The raster is cut into tiles of the model&apos;s input size and each tile is asked. For a large raster, select the top-k tiles: a retrieval model ranks all tiles against the question first (its tile index is cached, as in Text-to-image retrieval) and only the k best are asked, which is much faster.

Modes: answer only (text); boxes (each grounded object as a polygon; rotated boxes of GeoChat stay rotated; the same object seen by two overlapping tiles is kept once); masks (the boxes prompt a Segment Anything model, GeoPixel-style, and the masks become polygons).

Models: florence-2-base (default, runs on a CPU), florence-2-large, qwen2.5-vl-3b, qwen2.5-vl-7b, qwen3-vl-2b, qwen3-vl-8b, kosmos-2, a hub id or a local folder of one of these families, or a GeoChat checkpoint converted with scripts/convert_geochat.py.

Outputs: the objects (label, score where the model gives one, tile, question, model, source); the tiles asked with their answers; the combined answer as a string for the next step of a model (counts are summed for &quot;how many&quot; questions, otherwise one line per tile with its location); an HTML report with a thumbnail of each asked tile and its boxes.</source>
        <translation>Pose une question à un modèle vision-langage sur une couche raster (« Où sont garés les avions ? », « Combien de réservoirs y a-t-il dans ce port ? ») et place sur la carte chaque objet qu'il nomme.

Le raster est découpé en tuiles de la taille d'entrée du modèle et chaque tuile est interrogée. Pour un grand raster, choisissez les k meilleures tuiles : un modèle de recherche classe d'abord toutes les tuiles selon la question (son index de tuiles est mis en cache, comme dans Recherche texte-image) et seules les k meilleures sont interrogées, ce qui est bien plus rapide.

Modes : réponse seule (texte) ; boîtes (chaque objet localisé en polygone ; les boîtes orientées de GeoChat restent orientées ; un même objet vu par deux tuiles qui se chevauchent n'est gardé qu'une fois) ; masques (les boîtes guident un modèle Segment Anything, à la manière de GeoPixel, et les masques deviennent des polygones).

Modèles : florence-2-base (par défaut, fonctionne sur un CPU), florence-2-large, qwen2.5-vl-3b, qwen2.5-vl-7b, qwen3-vl-2b, qwen3-vl-8b, kosmos-2, un identifiant du hub ou un dossier local de l'une de ces familles, ou un point de contrôle GeoChat converti avec scripts/convert_geochat.py.

Sorties : les objets (libellé, score quand le modèle en donne un, tuile, question, modèle, source) ; les tuiles interrogées avec leurs réponses ; la réponse combinée, en chaîne pour l'étape suivante d'un modèle (les nombres sont additionnés pour les questions « combien », sinon une ligne par tuile avec sa position) ; un rapport HTML avec une vignette de chaque tuile interrogée et ses boîtes.</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="61"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="62"/>
        <source>Question</source>
        <translation>Question</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="64"/>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="64"/>
        <source>Answer only</source>
        <translation>Réponse seule</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="64"/>
        <source>Boxes</source>
        <translation>Boîtes</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="64"/>
        <source>Masks (Segment Anything from the boxes)</source>
        <translation>Masques (Segment Anything à partir des boîtes)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="68"/>
        <source>Tiles to ask</source>
        <translation>Tuiles à interroger</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="68"/>
        <source>All tiles</source>
        <translation>Toutes les tuiles</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="68"/>
        <source>Top-k tiles by retrieval</source>
        <translation>Les k meilleures tuiles par recherche</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="71"/>
        <source>Retrieval model (for top-k)</source>
        <translation>Modèle de recherche (pour les k meilleures)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="74"/>
        <source>Number of tiles to ask (top k)</source>
        <translation>Nombre de tuiles à interroger (k)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="76"/>
        <source>Segmentation model (for masks)</source>
        <translation>Modèle de segmentation (pour les masques)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="80"/>
        <source>Longest answer per tile (tokens)</source>
        <translation>Réponse la plus longue par tuile (jetons)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="82"/>
        <source>Grounded objects</source>
        <translation>Objets localisés</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="84"/>
        <source>Tiles asked</source>
        <translation>Tuiles interrogées</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="87"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="87"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="90"/>
        <source>Answer</source>
        <translation>Réponse</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="101"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="104"/>
        <source>The question is empty. Type a question about the raster, e.g. &quot;Where are the airplanes parked?&quot;.</source>
        <translation>La question est vide. Tapez une question sur le raster, par exemple « Où sont garés les avions ? ».</translation>
    </message>
    <message>
        <location filename="../processing/ask.py" line="126"/>
        <source>Answer:</source>
        <translation>Réponse :</translation>
    </message>
</context>
<context>
    <name>ChangeAlgorithm</name>
    <message>
        <location filename="../processing/change.py" line="38"/>
        <source>Detect and caption changes</source>
        <translation>Détecter et décrire les changements</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="41"/>
        <source>Compares two acquisitions of the same place (BEFORE, AFTER) and maps where they changed, how much, and in words what changed, per change region and overall.

AFTER is warped onto BEFORE's grid when their CRS or resolution differ; only their overlap is compared. Both rasters are compared band by band (all bands, or the BANDS chosen, read from both).

Methods: change vector analysis (no model: each band is normalised to its raster's mean and spread, so a global brightness change does not count, and Otsu's threshold splits the magnitudes); IR-MAD (no model: iteratively reweighted multivariate alteration detection, threshold at the 99 % chi-square quantile); deep-feature difference (a backbone such as clip-rsicd, git-rsclip or sam-vit-b compares patch features). A threshold given overrides the automatic one.

Every region gets a factual caption (area, where, brighter or darker, vegetation gain or loss where red and near-infrared bands are named). With a caption model (florence-2-base, qwen2.5-vl-3b, ...), the largest regions and the whole pair are also described by the model.

Outputs: change polygons (area in m², mean magnitude, captions), the magnitude raster, the change mask (1 change, 0 none), the overall caption as a string, and an HTML report with before/after pictures of the largest regions.</source>
        <translation>Compare deux acquisitions d'un même lieu (BEFORE, AFTER) et cartographie où elles ont changé, de combien, et en mots ce qui a changé, par zone de changement et dans l'ensemble.

AFTER est reprojeté sur la grille de BEFORE quand leur SCR ou leur résolution diffèrent ; seul leur recouvrement est comparé. Les deux rasters sont comparés bande par bande (toutes les bandes, ou les bandes choisies dans BANDS, lues dans les deux).

Méthodes : analyse du vecteur de changement (sans modèle : chaque bande est normalisée par la moyenne et l'écart type de son raster, si bien qu'un changement global de luminosité ne compte pas, et le seuil d'Otsu sépare les amplitudes) ; IR-MAD (sans modèle : détection multivariée des altérations itérativement repondérée, seuil au quantile à 99 % du khi-deux) ; différence de caractéristiques profondes (un réseau de base tel que clip-rsicd, git-rsclip ou sam-vit-b compare les caractéristiques des imagettes). Un seuil donné remplace le seuil automatique.

Chaque zone reçoit une légende factuelle (surface, position, plus claire ou plus sombre, gain ou perte de végétation lorsque les bandes rouge et proche infrarouge sont nommées). Avec un modèle de légendes (florence-2-base, qwen2.5-vl-3b, ...), les plus grandes zones et la paire entière sont aussi décrites par le modèle.

Sorties : les polygones de changement (surface en m², amplitude moyenne, légendes), le raster d'amplitude, le masque de changement (1 changement, 0 aucun), la légende d'ensemble sous forme de chaîne, et un rapport HTML avec des images avant/après des plus grandes zones.</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="59"/>
        <source>Before (earlier raster)</source>
        <translation>Avant (raster le plus ancien)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="60"/>
        <source>After (later raster)</source>
        <translation>Après (raster le plus récent)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="61"/>
        <source>Method</source>
        <translation>Méthode</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="61"/>
        <source>Change vector analysis (no model)</source>
        <translation>Analyse du vecteur de changement (sans modèle)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="61"/>
        <source>IR-MAD (no model)</source>
        <translation>IR-MAD (sans modèle)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="61"/>
        <source>Deep-feature difference (backbone model)</source>
        <translation>Différence de caractéristiques profondes (réseau de base)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="65"/>
        <source>Backbone for the feature method (preset, hub id or local path)</source>
        <translation>Réseau de base de la méthode par caractéristiques (préréglage, identifiant du hub ou chemin local)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="67"/>
        <source>Caption model (empty: factual captions only)</source>
        <translation>Modèle de légendes (vide : légendes factuelles seulement)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="70"/>
        <source>Threshold on the change magnitude (empty: automatic)</source>
        <translation>Seuil sur l'amplitude du changement (vide : automatique)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="73"/>
        <source>Smallest change region in m² (specks thinner than 3 pixels are always removed)</source>
        <translation>Plus petite zone de changement en m² (les taches de moins de 3 pixels d'épaisseur sont toujours supprimées)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="79"/>
        <source>Bands to compare (read from both rasters; default: all)</source>
        <translation>Bandes à comparer (lues dans les deux rasters ; par défaut : toutes)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="81"/>
        <source>Regions the caption model describes (largest first)</source>
        <translation>Zones décrites par le modèle de légendes (les plus grandes d'abord)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="84"/>
        <source>Longest caption (tokens)</source>
        <translation>Légende la plus longue (jetons)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="86"/>
        <source>Change regions</source>
        <translation>Zones de changement</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="88"/>
        <source>Change magnitude</source>
        <translation>Amplitude du changement</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="90"/>
        <source>Change mask</source>
        <translation>Masque de changement</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="92"/>
        <source>Report</source>
        <translation>Rapport</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="92"/>
        <source>HTML files (*.html)</source>
        <translation>Fichiers HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="95"/>
        <source>Overall caption</source>
        <translation>Légende d'ensemble</translation>
    </message>
    <message>
        <location filename="../processing/change.py" line="107"/>
        <source>Choose two raster layers: BEFORE and AFTER.</source>
        <translation>Choisissez deux couches raster : BEFORE et AFTER.</translation>
    </message>
</context>
<context>
    <name>GeoVLAlgorithm</name>
    <message>
        <location filename="../processing/base.py" line="166"/>
        <source>{} would overwrite the input {} ({}). Choose another file name for the output.</source>
        <translation>{} écraserait l'entrée {} ({}). Choisissez un autre nom de fichier pour la sortie.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="170"/>
        <source>{} and {} are the same file ({}). Give each output its own file name.</source>
        <translation>{} et {} sont le même fichier ({}). Donnez à chaque sortie son propre nom de fichier.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="176"/>
        <source>Cannot write {} to {}: {}. Choose a folder that exists and that you can write to.</source>
        <translation>Impossible d'écrire {} dans {} : {}. Choisissez un dossier qui existe et où vous pouvez écrire.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="206"/>
        <source>the file cannot be read back</source>
        <translation>le fichier ne peut pas être relu</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="215"/>
        <source>Writing {} to {} failed ({}). Is the disk full? Free some space or choose another folder, and run again.</source>
        <translation>L'écriture de {} dans {} a échoué ({}). Le disque est-il plein ? Libérez de la place ou choisissez un autre dossier, puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/base.py" line="215"/>
        <source>no reason given</source>
        <translation>sans raison donnée</translation>
    </message>
</context>
<context>
    <name>GeoVLProvider</name>
    <message>
        <location filename="../geovl_plugin/provider.py" line="23"/>
        <source>GeoVL (vision-language)</source>
        <translation>GeoVL (vision-langage)</translation>
    </message>
    <message>
        <location filename="../geovl_plugin/provider.py" line="26"/>
        <source>GeoVL: remote-sensing vision-language models</source>
        <translation>GeoVL : modèles vision-langage pour la télédétection</translation>
    </message>
</context>
<context>
    <name>RetrieveAlgorithm</name>
    <message>
        <location filename="../processing/retrieve.py" line="33"/>
        <source>Text-to-image retrieval</source>
        <translation>Recherche d'images par texte</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="50"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="51"/>
        <source>Query text</source>
        <translation>Texte de la requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="52"/>
        <source>Negative text (what not to find)</source>
        <translation>Texte négatif (ce qu'il ne faut pas trouver)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="54"/>
        <source>Query layer (find areas like these features)</source>
        <translation>Couche requête (trouver des zones semblables à ces entités)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="57"/>
        <source>Number of results (top k)</source>
        <translation>Nombre de résultats (top k)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="60"/>
        <source>Batch size</source>
        <translation>Taille des lots</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="62"/>
        <source>Matching tiles</source>
        <translation>Tuiles correspondantes</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="64"/>
        <source>Similarity heatmap</source>
        <translation>Carte de chaleur de similarité</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="66"/>
        <source>Tile index (default: kept in the GeoVL cache)</source>
        <translation>Index des tuiles (par défaut : conservé dans le cache GeoVL)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="66"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="78"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="84"/>
        <source>Give a query text (QUERY), or a query layer (QUERY_LAYER) with features showing what to find.</source>
        <translation>Donnez un texte de requête (QUERY), ou une couche requête (QUERY_LAYER) dont les entités montrent ce qu'il faut trouver.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="98"/>
        <source>{} tiles in the index ({} embedded in this run).</source>
        <translation>{} tuiles dans l'index ({} encodées lors de cette exécution).</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="101"/>
        <source>like {} feature(s) of the query layer</source>
        <translation>semblable à {} entité(s) de la couche requête</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="132"/>
        <source>The query layer has no features with a geometry.</source>
        <translation>La couche requête n'a aucune entité avec une géométrie.</translation>
    </message>
    <message>
        <location filename="../processing/retrieve.py" line="36"/>
        <source>Finds the tiles of a raster layer that best match a text query (&quot;storage tanks next to a harbour&quot;), or that look like the features of a query layer.

The raster is cut into tiles that are embedded once by an image-text model into a tile index (a GeoPackage); later queries on the same raster, model and tiling reuse it and only embed the text.

Model presets: clip-rsicd (default, CLIP fine-tuned on RSICD, fast on a CPU), git-rsclip and git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, georsclip-vit-b-32, clip-vit-b-32. A hub id (org/name) or a local folder or checkpoint file also works; ARCH:FILE names the open_clip architecture of a checkpoint file (e.g. ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt).

Outputs: the top-k tile footprints ranked by score (cosine similarity; minus the similarity to the negative text when one is given), an optional heatmap with one score per tile, and the tile index.</source>
        <translation>Trouve les tuiles d'une couche raster qui correspondent le mieux à une requête textuelle (« des réservoirs près d'un port »), ou qui ressemblent aux entités d'une couche requête.

Le raster est découpé en tuiles, encodées une seule fois par un modèle image-texte dans un index de tuiles (un GeoPackage) ; les requêtes suivantes sur le même raster, avec le même modèle et le même tuilage, le réutilisent et n'encodent que le texte.

Préréglages de modèles : clip-rsicd (par défaut, CLIP affiné sur RSICD, rapide sur un CPU), git-rsclip et git-rsclip-base (SigLIP, Git-10M), remoteclip-vit-b-32 / remoteclip-vit-l-14 / remoteclip-rn50, georsclip-vit-b-32, clip-vit-b-32. Un identifiant du hub (org/nom), un dossier local ou un fichier de poids conviennent aussi ; ARCH:FICHIER nomme l'architecture open_clip d'un fichier de poids (par ex. ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt).

Sorties : les emprises des k meilleures tuiles classées par score (similarité cosinus ; moins la similarité au texte négatif s'il est donné), une carte de chaleur facultative avec un score par tuile, et l'index des tuiles.</translation>
    </message>
</context>
<context>
    <name>SegmentAlgorithm</name>
    <message>
        <location filename="../processing/segment.py" line="40"/>
        <source>Prompted segmentation (SAM)</source>
        <translation>Segmentation guidée par invites (SAM)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="43"/>
        <source>Segments objects such as roads and sidewalks with Segment Anything, over a whole raster layer.

Prompts: a vector layer of points (click on the object; a label field with 0 marks background points), polygons (their bounding boxes) or lines (points sampled along them, e.g. road centrelines from OpenStreetMap); a class field names the class of each prompt (road, sidewalk). A prior class raster gives sparse points per class and tile, as GeoSAM does. Text concepts (&quot;road; sidewalk&quot;) need a SAM 3 model.

The raster is cut into tiles of the model's input size. Each tile is encoded once and its embedding cached, so running again with new prompts on the same raster only decodes them (fast). Objects that cross tile borders come out as one polygon.

Models: sam-vit-b (default), sam-vit-l, sam-vit-h, sam2.1-hiera-tiny, sam2.1-hiera-large, sam3, a transformers SAM folder or hub id, or a segment-anything checkpoint file (.pth) of any size, such as GeoSAM's: its architecture is read from the file.

Outputs: polygons with class, score (the model's predicted IoU), area in m² and the prompt that made them; a class raster (0 = nothing); optionally the centre lines of the road class.</source>
        <translation>Segmente des objets tels que les routes et les trottoirs avec Segment Anything, sur toute une couche raster.

Invites : une couche vecteur de points (cliquez sur l'objet ; un champ d'étiquette à 0 marque les points de fond), de polygones (leurs rectangles englobants) ou de lignes (des points échantillonnés le long de celles-ci, par exemple des axes de routes issus d'OpenStreetMap) ; un champ de classe donne la classe de chaque invite (road, sidewalk). Un raster de classes a priori fournit des points épars par classe et par tuile, comme le fait GeoSAM. Les concepts textuels (« road; sidewalk ») nécessitent un modèle SAM 3.

Le raster est découpé en tuiles de la taille d'entrée du modèle. Chaque tuile est encodée une seule fois et son plongement mis en cache : relancer avec de nouvelles invites sur le même raster ne fait que les décoder (rapide). Un objet qui traverse la limite entre deux tuiles donne un seul polygone.

Modèles : sam-vit-b (par défaut), sam-vit-l, sam-vit-h, sam2.1-hiera-tiny, sam2.1-hiera-large, sam3, un dossier ou un identifiant du hub d'un SAM transformers, ou un fichier de poids segment-anything (.pth) de n'importe quelle taille, comme celui de GeoSAM : son architecture est lue dans le fichier.

Sorties : des polygones avec leur classe, leur score (l'IoU prédite par le modèle), leur surface en m² et l'invite qui les a produits ; un raster de classes (0 = rien) ; en option, les axes de la classe des routes.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="60"/>
        <source>Raster layer</source>
        <translation>Couche raster</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="61"/>
        <source>Prompts (points, boxes from polygons, lines)</source>
        <translation>Invites (points, rectangles englobants des polygones, lignes)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="64"/>
        <source>Label field (1 object, 0 background)</source>
        <translation>Champ d'étiquette (1 objet, 0 fond)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="67"/>
        <source>Class field (e.g. road, sidewalk)</source>
        <translation>Champ de classe (par ex. road, sidewalk)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="70"/>
        <source>Prior class raster (sparse prompts sampled per class)</source>
        <translation>Raster de classes a priori (invites éparses échantillonnées par classe)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="72"/>
        <source>Text concepts, separated by ; (SAM 3 models)</source>
        <translation>Concepts textuels, séparés par ; (modèles SAM 3)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="75"/>
        <source>SAM checkpoint type</source>
        <translation>Type du fichier de poids SAM</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="77"/>
        <source>Refine each mask with a second, dense-prompt pass</source>
        <translation>Affiner chaque masque par une seconde passe avec une invite dense</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="79"/>
        <source>Minimum polygon area (m²)</source>
        <translation>Surface minimale des polygones (m²)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="82"/>
        <source>Simplification tolerance (map units, 0: none)</source>
        <translation>Tolérance de simplification (unités de la carte, 0 : aucune)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="86"/>
        <source>Spacing of points along line prompts (m, 0: every 32 pixels)</source>
        <translation>Espacement des points le long des invites linéaires (m, 0 : tous les 32 pixels)</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="91"/>
        <source>Segments</source>
        <translation>Objets segmentés</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="93"/>
        <source>Class raster</source>
        <translation>Raster de classes</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="95"/>
        <source>Road centre lines</source>
        <translation>Axes des routes</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="107"/>
        <source>Choose a raster layer (INPUT).</source>
        <translation>Choisissez une couche raster (INPUT).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="116"/>
        <source>Give something to segment: a prompt layer (PROMPTS), a prior class raster (PRIOR) or text concepts (TEXT, with a SAM 3 model).</source>
        <translation>Indiquez quoi segmenter : une couche d'invites (PROMPTS), un raster de classes a priori (PRIOR) ou des concepts textuels (TEXT, avec un modèle SAM 3).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="183"/>
        <source>The prompt layer has no coordinate reference system. Set it (Layer Properties &gt; Source) and run again.</source>
        <translation>La couche d'invites n'a pas de système de coordonnées de référence. Définissez-le (Propriétés de la couche &gt; Source) puis relancez.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="190"/>
        <source>The prompt layer has no field &apos;{}&apos; ({}); its fields are: {}.</source>
        <translation>La couche d'invites n'a pas de champ « {} » ({}) ; ses champs sont : {}.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="208"/>
        <source>Feature {} has label {!r} in the field {}; use 1 for the object and 0 for background.</source>
        <translation>L'entité {} a l'étiquette {!r} dans le champ {} ; utilisez 1 pour l'objet et 0 pour le fond.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="226"/>
        <source>None of the prompts can be transformed from the prompt layer&apos;s CRS ({}) to the raster&apos;s ({}). Check that the prompt layer&apos;s CRS is right.</source>
        <translation>Aucune invite ne peut être transformée du SCR de la couche d'invites ({}) vers celui du raster ({}). Vérifiez que le SCR de la couche d'invites est le bon.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="231"/>
        <source>Features {} of the prompt layer cannot be transformed to the raster&apos;s CRS and were skipped.</source>
        <translation>Les entités {} de la couche d'invites ne peuvent pas être transformées vers le SCR du raster et ont été ignorées.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="235"/>
        <source>The prompt layer has no features with a geometry.</source>
        <translation>La couche d'invites n'a aucune entité avec une géométrie.</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="89"/>
        <source>Class to draw centre lines of</source>
        <translation>Classe dont tracer les axes</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="113"/>
        <source>The prompt layer (PROMPTS) has no features with a geometry: add points, polygons or lines on what to segment, or give a prior class raster (PRIOR) or text concepts (TEXT).</source>
        <translation>La couche d'invites (PROMPTS) n'a aucune entité avec une géométrie : ajoutez des points, polygones ou lignes sur ce qu'il faut segmenter, ou donnez un raster de classes a priori (PRIOR) ou des concepts textuels (TEXT).</translation>
    </message>
    <message>
        <location filename="../processing/segment.py" line="180"/>
        <source>The prompt layer has no features.</source>
        <translation>La couche d'invites n'a aucune entité.</translation>
    </message>
</context>
</TS>
